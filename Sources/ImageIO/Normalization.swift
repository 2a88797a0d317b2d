import TensorCore

/// How image bytes become network input: channel order, scale, then per-channel `(x * scale - mean) / std`.
///
/// `mean` and `std` are listed in the tensor's channel order (BGR for `.caffe`).
public struct Normalization: Equatable, Sendable {
    /// The order of the three colour planes in the tensor.
    public enum ChannelOrder: String, Equatable, Sendable { case rgb, bgr }

    public var channelOrder: ChannelOrder
    /// Multiplies the 0...255 byte first (1 keeps 0...255, 1/255 gives 0...1).
    public var scale: Float
    /// Subtracted after scaling, per tensor channel.
    public var mean: [Float]
    /// Divides after subtracting the mean, per tensor channel.
    public var std: [Float]

    /// A normalisation; mean and std need three entries, std non-zero.
    public init(channelOrder: ChannelOrder, scale: Float, mean: [Float], std: [Float]) {
        precondition(mean.count == 3 && std.count == 3 && !std.contains(0),
                     "Normalization: mean and std need 3 entries and std no zero (got \(mean), \(std))")
        self.channelOrder = channelOrder
        self.scale = scale
        self.mean = mean
        self.std = std
    }

    /// Caffe / Oxford VGG (and Keras `preprocess_input` "caffe"): BGR, 0...255, minus the ImageNet mean
    /// [103.939, 116.779, 123.68] in B, G, R order, no std.
    public static let caffe = Normalization(channelOrder: .bgr, scale: 1, mean: [103.939, 116.779, 123.68], std: [1, 1, 1])
    /// torchvision's ImageNet models: RGB, / 255, mean [0.485, 0.456, 0.406], std [0.229, 0.224, 0.225].
    public static let torchvision = Normalization(channelOrder: .rgb, scale: 1 / 255,
                                                  mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
    /// Plain RGB in 0...1: the visualiser's image space (models apply their own normalisation).
    public static let unit = Normalization(channelOrder: .rgb, scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1])

    /// The tensor channel that holds RGB channel `rgbIndex` (0 red, 1 green, 2 blue).
    func tensorChannel(ofRGB rgbIndex: Int) -> Int { channelOrder == .rgb ? rgbIndex : 2 - rgbIndex }
}

extension Image {
    /// A (1, 3, H, W) tensor; gray is replicated to three channels. RGBA is not accepted: composite first.
    public func tensor(_ normalization: Normalization = .unit) -> Tensor {
        Image.tensor([self], normalization)
    }

    /// A (N, 3, H, W) batch; every image must have the same size (checked) and no alpha.
    public static func tensor(_ images: [Image], _ normalization: Normalization = .unit) -> Tensor {
        precondition(!images.isEmpty, "Image.tensor: no images")
        let w = images[0].width, h = images[0].height, plane = w * h
        var storage = [Float](repeating: 0, count: images.count * 3 * plane)
        for (n, image) in images.enumerated() {
            precondition(image.width == w && image.height == h,
                         "Image.tensor: image \(n) is \(image.width) x \(image.height), the first is \(w) x \(h)")
            precondition(image.channels != 4, "Image.tensor: image \(n) has alpha; composite it first (rgb(over:))")
            let c = image.channels
            for rgb in 0..<3 {
                let t = normalization.tensorChannel(ofRGB: rgb)
                let scale = normalization.scale / normalization.std[t], offset = normalization.mean[t] / normalization.std[t]
                let base = (n * 3 + t) * plane, source = c == 1 ? 0 : rgb
                for i in 0..<plane { storage[base + i] = Float(image.pixels[i * c + source]) * scale - offset }
            }
        }
        return Tensor(shape: [images.count, 3, h, w], storage: storage)
    }

    /// Image `index` of a (N, 3, H, W) tensor (or a (3, H, W) one), undoing `normalization`: each byte is
    /// `x * std + mean` divided by scale, rounded to nearest (ties away from zero), clamped to 0...255; NaN -> 0.
    public init(tensor: Tensor, index: Int = 0, _ normalization: Normalization = .unit) {
        let shape = tensor.rank == 3 ? [1] + tensor.shape : tensor.shape
        precondition(shape.count == 4 && shape[1] == 3 && index >= 0 && index < shape[0],
                     "Image(tensor:): need (N, 3, H, W) or (3, H, W) and index < N, got \(tensor.shape), index \(index)")
        let h = shape[2], w = shape[3], plane = w * h
        var pixels = [UInt8](repeating: 0, count: plane * 3)
        for rgb in 0..<3 {
            let t = normalization.tensorChannel(ofRGB: rgb)
            let std = normalization.std[t], mean = normalization.mean[t], scale = normalization.scale
            let base = (index * 3 + t) * plane
            for i in 0..<plane {
                let v = ((tensor.storage[base + i] * std + mean) / scale).rounded()
                pixels[i * 3 + rgb] = v.isNaN ? 0 : UInt8(min(max(v, 0), 255))
            }
        }
        self.init(width: w, height: h, channels: 3, pixels: pixels)
    }
}
