import TensorCore

/// A differentiable random change of the image batch before it enters the network (lucid's transforms).
///
/// Every draw comes from the image's own generator, so results are reproducible and independent of batching.
public struct Transform: CustomStringConvertible {
    public let description: String
    let apply: (Tensor, inout [SeededGenerator]) -> Tensor
    /// The side of the output for an input of this side (pad grows the image, jitter crops it), so sizes can be
    /// checked before any work.
    public let outputSide: (Int) -> Int

    public init(_ description: String, outputSide: @escaping (Int) -> Int = { $0 },
                apply: @escaping (Tensor, inout [SeededGenerator]) -> Tensor) {
        self.description = description
        self.outputSide = outputSide
        self.apply = apply
    }

    /// Applies the transform, drawing from `generators[b]` for image b.
    public func callAsFunction(_ x: Tensor, _ generators: inout [SeededGenerator]) -> Tensor { apply(x, &generators) }

    /// Pads every side by `amount` pixels of `value` (lucid pads with grey 0.5 so borders carry no signal).
    public static func pad(_ amount: Int, value: Float = 0.5) -> Transform {
        Transform("pad(\(amount), \(value))", outputSide: { $0 + 2 * amount }) { x, _ in
            TensorCore.pad(x, top: amount, bottom: amount, left: amount, right: amount, mode: .constant, value: value)
        }
    }

    /// Crops each image by `amount` pixels at a random offset in 0...amount (lucid's jitter).
    public static func jitter(_ amount: Int) -> Transform {
        Transform("jitter(\(amount))", outputSide: { $0 - amount }) { x, generators in
            let (h, w) = (x.shape[2], x.shape[3])
            var tops: [Int] = [], lefts: [Int] = []
            for b in 0..<x.shape[0] {
                tops.append(generators[b].integer(in: 0...amount))
                lefts.append(generators[b].integer(in: 0...amount))
            }
            return cropEach(x, tops: tops, lefts: lefts, height: h - amount, width: w - amount)
        }
    }

    /// Scales each image about its centre by a factor drawn from `scales` and rotates it by an angle in degrees
    /// drawn from `angles`, in one bilinear resample (edges repeat the border pixels).
    public static func scaleAndRotate(scales: [Double], angles: [Double]) -> Transform {
        precondition(!scales.isEmpty && !angles.isEmpty, "scaleAndRotate: empty list of scales or angles")
        return Transform("scale(\(scales.min()!)-\(scales.max()!)) rotate(\(angles.min()!)-\(angles.max()!))") { x, generators in
            var thetas: [[Float]] = []
            for b in 0..<x.shape[0] {
                let s = scales[generators[b].integer(in: 0...(scales.count - 1))]
                let a = angles[generators[b].integer(in: 0...(angles.count - 1))]
                thetas.append(affineTheta(degrees: Float(a), scale: Float(s), inputSize: (x.shape[2], x.shape[3])))
            }
            return affineResample(x, matrices: thetas, padding: .border)
        }
    }

    /// lucid's `standard_transforms`: pad 12, jitter 8, scale 0.90-1.10, rotate -10..10 degrees, jitter 4.
    public static var standard: [Transform] {
        [.pad(12), .jitter(8),
         .scaleAndRotate(scales: (0..<11).map { 1 + Double($0 - 5) / 50 },
                         angles: (-10...10).map(Double.init) + [0, 0, 0, 0, 0]),
         .jitter(4)]
    }
}
