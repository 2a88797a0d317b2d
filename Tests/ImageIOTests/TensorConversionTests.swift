import Testing
import TensorCore
@testable import ImageIO

@Suite("Image <-> tensor with the normalisation presets")
struct TensorConversionTests {
    // One pixel (R, G, B) = (255, 128, 0) and one gray pixel 51.
    let rgb = Image(width: 1, height: 1, channels: 3, pixels: [255, 128, 0])

    @Test("unit: RGB in 0...1")
    func unit() {
        let t = rgb.tensor(.unit)
        #expect(t.shape == [1, 3, 1, 1])
        #expect(t.storage == [1, Float(128) / 255, 0])
    }

    @Test("caffe: BGR, 0...255, minus [103.939, 116.779, 123.68] in B, G, R order")
    func caffe() {
        let t = rgb.tensor(.caffe)
        let expected: [Float] = [0 - 103.939, 128 - 116.779, 255 - 123.68]
        #expect(t.storage == expected)
    }

    @Test("torchvision: RGB, /255, minus mean, over std (hand-computed within 1e-6)")
    func torchvision() {
        let t = rgb.tensor(.torchvision)
        let expected: [Float] = [(1 - 0.485) / 0.229, (128.0 / 255 - 0.456) / 0.224, (0 - 0.406) / 0.225]
        for (a, b) in zip(t.storage, expected) { #expect(abs(a - b) < 1e-6, "\(t.storage) vs \(expected)") }
    }

    @Test("Gray is replicated; batches stack along N; planes are channel-major", arguments: [Normalization.unit, .caffe, .torchvision])
    func batchRoundTrip(_ n: Normalization) {
        let a = Image(width: 3, height: 2, channels: 3, pixels: (0..<18).map { UInt8($0 * 14) })
        let b = Image(width: 3, height: 2, channels: 1, pixels: [0, 51, 102, 153, 204, 255])
        let t = Image.tensor([a, b], n)
        #expect(t.shape == [2, 3, 2, 3])
        // Every byte survives the round trip exactly: the conversion is affine in float32 and rounds back.
        #expect(Image(tensor: t, index: 0, n) == a)
        #expect(Image(tensor: t, index: 1, n) == b.rgb())
        // Plane layout: for .unit, element (0, c, y, x) = pixel (x, y) channel c / 255.
        if n == .unit {
            let element = t.storage[6 + 3 + 2], byte = Float(a.pixels[(3 + 2) * 3 + 1])
            #expect(abs(element - byte / 255) < 1e-7)
        }
    }

    @Test("Tensor -> image clamps to 0...255 and rounds to nearest; NaN -> 0")
    func clampAndRound() {
        let t = Tensor(shape: [3, 1, 2], storage: [-0.5, 2.0, 0.5 / 255 * 1.01, 0.49 / 255, .nan, 1])
        let image = Image(tensor: t, .unit)
        #expect(image.pixels == [0, 1, 0, 255, 0, 255])
    }
}
