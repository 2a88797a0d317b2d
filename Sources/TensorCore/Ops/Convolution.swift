// 2-D convolution (and convolution fused with ReLU) with its derivatives; the kernels are in Kernels/.

/// How a convolution pads its input.
public enum ConvPadding: Equatable {
    /// (padH, padW) zeros on each side (symmetric).
    case explicit(Int, Int)
    /// Zeros on each side separately: TensorFlow's "SAME" padding of a strided conv (EfficientNet-Lite, tf2onnx
    /// exports) puts the odd zero at the bottom/right.
    case asymmetric(top: Int, bottom: Int, left: Int, right: Int)
    /// Output as large as the input (stride 1 only); for even kernels the extra zero goes right/bottom, as PyTorch.
    case same
    /// No padding.
    case valid
}

/// A reason a convolution's arguments do not fit together (the message names the op and the shapes).
public enum ConvShapeError: Error, CustomStringConvertible, Equatable {
    /// The input is not (N, C, H, W).
    case inputNotRank4(op: String, shape: [Int])
    /// The weight is not rank 4; `layout` is the one `op` expects.
    case weightNotRank4(op: String, layout: String, shape: [Int])
    /// Stride, dilation or groups below 1 (or, for the transposed op, a negative padding).
    case badStepSizes(op: String, stride: Int, dilation: Int, groups: Int, padding: Int?)
    case emptyKernel(op: String, weight: [Int])
    /// `count` output (or input, for the transposed op) channels that `groups` does not divide.
    case channelsNotGrouped(op: String, count: Int, side: String, groups: Int, weight: [Int]?)
    case channelMismatch(op: String, input: Int, weightExpects: Int, weight: [Int], groups: Int)
    case biasShape(op: String, outputs: Int, weight: [Int], bias: [Int])
    case negativePadding(op: String, height: Int, width: Int)
    case sameNeedsStrideOne(op: String, stride: Int)
    /// The padded input is smaller than the dilated kernel (kernelH x kernelW).
    case inputSmallerThanKernel(op: String, input: [Int], padding: ConvPadding, kernelH: Int, kernelW: Int, weight: [Int])
    case outputPaddingTooLarge(op: String, outputPadding: Int, stride: Int, dilation: Int)
    case emptyOutput(op: String, height: Int, width: Int, input: [Int], weight: [Int], padding: Int)

    public var description: String {
        switch self {
        case let .inputNotRank4(op, shape): return "\(op): input must be (N, C, H, W), got shape \(shape)"
        case let .weightNotRank4(op, layout, shape): return "\(op): weight must be \(layout), got shape \(shape)"
        case let .badStepSizes(op, stride, dilation, groups, padding?):
            return "\(op): stride (\(stride)), dilation (\(dilation)), groups (\(groups)) must be >= 1 and padding (\(padding)) >= 0"
        case let .badStepSizes(op, stride, dilation, groups, nil):
            return "\(op): stride (\(stride)), dilation (\(dilation)) and groups (\(groups)) must be at least 1"
        case let .emptyKernel(op, weight): return "\(op): kernel size must be at least 1, weight \(weight)"
        case let .channelsNotGrouped(op, count, side, groups, weight):
            return "\(op): \(count) \(side) channels do not split into \(groups) groups" + (weight.map { " (weight \($0))" } ?? "")
        case let .channelMismatch(op, input, expects, weight, groups):
            return "\(op): input has \(input) channels, weight expects \(expects) (weight \(weight)\(groups > 1 ? ", groups \(groups)" : ""))"
        case let .biasShape(op, outputs, weight, bias): return "\(op): bias must have shape [\(outputs)] for weight \(weight), got \(bias)"
        case let .negativePadding(op, h, w): return "\(op): padding must be >= 0, got (\(h), \(w))"
        case let .sameNeedsStrideOne(op, stride): return "\(op): padding .same needs stride 1 (as in PyTorch), got stride \(stride)"
        case let .inputSmallerThanKernel(op, input, padding, kh, kw, weight):
            return "\(op): input \(input) with padding \(padding) is smaller than the dilated kernel \(kh)x\(kw) (weight \(weight))"
        case let .outputPaddingTooLarge(op, outputPadding, stride, dilation):
            return "\(op): outputPadding \(outputPadding) must be smaller than stride (\(stride)) or dilation (\(dilation))"
        case let .emptyOutput(op, h, w, input, weight, padding):
            return "\(op): output would be \(h)x\(w) for input \(input), weight \(weight), padding \(padding)"
        }
    }
}

/// Checks conv2d's arguments and returns the output shape, or throws an error that says what is wrong.
public func validateConv2d(input: [Int], weight: [Int], bias: [Int]?, stride: Int = 1, padding: ConvPadding = .valid,
                           dilation: Int = 1, groups: Int = 1) throws -> [Int] {
    try convGeometry(op: "conv2d", input: input, weight: weight, bias: bias, stride: stride, padding: padding,
                     dilation: dilation, groups: groups).outputShape
}

extension ConvGeometry {
    var outputShape: [Int] { [batch, outChannels, outH, outW] }
    var inputShape: [Int] { [batch, inChannels, inH, inW] }
}

/// Output length of a convolution along one axis (`padding` zeros in all, both sides together), as PyTorch;
/// nil when the padded input is shorter than the dilated kernel.
public func convOutputSize(_ input: Int, kernel: Int, stride: Int, padding: Int, dilation: Int) -> Int? {
    let span = input + padding - dilation * (kernel - 1)
    return span >= 1 ? (span - 1) / stride + 1 : nil
}

/// The geometry of conv2d(input, weight), or an error naming what does not fit.
func convGeometry(op: String, input: [Int], weight: [Int], bias: [Int]?, stride: Int, padding: ConvPadding,
                  dilation: Int, groups: Int) throws -> ConvGeometry {
    guard input.count == 4 else { throw ConvShapeError.inputNotRank4(op: op, shape: input) }
    guard weight.count == 4 else { throw ConvShapeError.weightNotRank4(op: op, layout: "(O, C/groups, kh, kw)", shape: weight) }
    guard stride >= 1, dilation >= 1, groups >= 1 else {
        throw ConvShapeError.badStepSizes(op: op, stride: stride, dilation: dilation, groups: groups, padding: nil)
    }
    let (n, c, h, w) = (input[0], input[1], input[2], input[3])
    let (o, cg, kh, kw) = (weight[0], weight[1], weight[2], weight[3])
    guard kh >= 1, kw >= 1 else { throw ConvShapeError.emptyKernel(op: op, weight: weight) }
    guard o % groups == 0 else {
        throw ConvShapeError.channelsNotGrouped(op: op, count: o, side: "output", groups: groups, weight: weight)
    }
    guard cg * groups == c else {
        throw ConvShapeError.channelMismatch(op: op, input: c, weightExpects: cg * groups, weight: weight, groups: groups)
    }
    if let bias, bias != [o] { throw ConvShapeError.biasShape(op: op, outputs: o, weight: weight, bias: bias) }
    var top = 0, bottom = 0, left = 0, right = 0
    switch padding {
    case .valid: break
    case .explicit(let ph, let pw):
        guard ph >= 0, pw >= 0 else { throw ConvShapeError.negativePadding(op: op, height: ph, width: pw) }
        (top, bottom, left, right) = (ph, ph, pw, pw)
    case let .asymmetric(t, b, l, r):
        guard min(t, b, l, r) >= 0 else { throw ConvShapeError.negativePadding(op: op, height: min(t, b), width: min(l, r)) }
        (top, bottom, left, right) = (t, b, l, r)
    case .same:
        guard stride == 1 else { throw ConvShapeError.sameNeedsStrideOne(op: op, stride: stride) }
        let th = dilation * (kh - 1), tw = dilation * (kw - 1)
        (top, bottom, left, right) = (th / 2, th - th / 2, tw / 2, tw - tw / 2)
    }
    guard let outH = convOutputSize(h, kernel: kh, stride: stride, padding: top + bottom, dilation: dilation),
          let outW = convOutputSize(w, kernel: kw, stride: stride, padding: left + right, dilation: dilation) else {
        throw ConvShapeError.inputSmallerThanKernel(op: op, input: input, padding: padding, kernelH: dilation * (kh - 1) + 1,
                                                    kernelW: dilation * (kw - 1) + 1, weight: weight)
    }
    return ConvGeometry(batch: n, inChannels: c, inH: h, inW: w, outChannels: o, kh: kh, kw: kw,
                        stride: stride, dilation: dilation, groups: groups, padTop: top, padLeft: left,
                        outH: outH, outW: outW)
}

/// 2-D convolution (cross-correlation, as PyTorch): x (N, C, H, W), weight (O, C/groups, kh, kw) -> (N, O, H', W').
/// `weightsIdentity`, given by the weights' owner, lets repeated calls reuse their Winograd transform.
public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: ConvPadding = .valid,
                   dilation: Int = 1, groups: Int = 1, weightsIdentity: WeightsIdentity? = nil) -> Tensor {
    convolution(x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups,
                relu: false, identity: weightsIdentity)
}

/// relu(conv2d(...)) fused: bias and ReLU are applied as the kernel stores; backward keeps a one-bit mask.
public func conv2dReLU(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: ConvPadding = .valid,
                       dilation: Int = 1, groups: Int = 1, weightsIdentity: WeightsIdentity? = nil) -> Tensor {
    convolution(x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups,
                relu: true, identity: weightsIdentity)
}

private func convolution(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int, padding: ConvPadding,
                         dilation: Int, groups: Int, relu: Bool, identity: WeightsIdentity?) -> Tensor {
    let op = relu ? "conv2dReLU" : "conv2d"
    let g: ConvGeometry
    do {
        g = try convGeometry(op: op, input: x.shape, weight: weight.shape, bias: bias?.shape, stride: stride,
                             padding: padding, dilation: dilation, groups: groups)
    } catch {
        preconditionFailure("\(error)")
    }
    let out = makeUninitializedArray(g.batch * g.outChannels * g.outPlane) { y in
        x.storage.withUnsafeBufferPointer { xs in
            weight.storage.withUnsafeBufferPointer { ws in
                if let bias {
                    bias.storage.withUnsafeBufferPointer { bs in
                        ConvKernels.forward(g, x: xs.baseAddress!, w: ws.baseAddress!, bias: bs.baseAddress!, relu: relu, y: y,
                                            identity: identity)
                    }
                } else {
                    ConvKernels.forward(g, x: xs.baseAddress!, w: ws.baseAddress!, bias: nil, relu: relu, y: y,
                                        identity: identity)
                }
            }
        }
    }
    let inputs = [x, weight] + (bias.map { [$0] } ?? [])
    guard GradMode.isEnabled, inputs.contains(where: Tensor.needsGrad) else {
        return Tensor(shape: g.outputShape, storage: out)
    }
    // Keep only what the derivatives need: the weights for d/dx, the input only if d/dweight is wanted,
    // and a bit mask instead of the output for the ReLU.
    let wantX = Tensor.needsGrad(x), wantW = Tensor.needsGrad(weight), wantB = bias.map(Tensor.needsGrad) ?? false
    let weights = wantX ? weight.storage : []
    let savedInput = wantW ? x.storage : []
    let hasBias = bias != nil
    let mask = relu ? out.withUnsafeBufferPointer { ReLUMask($0.baseAddress!, count: $0.count) } : nil
    return Tensor.result(op: op, shape: g.outputShape, storage: out, inputs: inputs) { gradOut in
        if let mask, wantX, !wantW, !wantB {
            // Only d/dx (activation maximisation): mask and propagate a few images at a time, so no second
            // full-size copy of the output gradient is ever held.
            return [inputGradThroughReLU(g, gradOut: gradOut.storage, mask: mask, weights: weights, identity: identity), nil]
                + (hasBias ? [nil] : [])
        }
        let dy = mask?.apply(to: gradOut.storage) ?? gradOut.storage
        return convolutionGrads(g, dy: dy, weights: weights, identity: identity, input: savedInput,
                                wantX: wantX, wantW: wantW, wantB: wantB, hasBias: hasBias)
    }
}

/// dx of relu(conv(x)) from the output gradient, masked in chunks of images of at most ~16 MiB.
private func inputGradThroughReLU(_ g: ConvGeometry, gradOut: [Float], mask: ReLUMask, weights: [Float],
                                  identity: WeightsIdentity?) -> Tensor {
    let perImageOut = g.outChannels * g.outPlane, perImageIn = g.inChannels * g.inPlane
    let chunk = max(1, min(g.batch, (4 << 20) / max(perImageOut, 1)))
    let dx = makeUninitializedArray(g.batch * perImageIn) { dx in
        withAlignedScratch(chunk * perImageOut) { dyChunk in
            gradOut.withUnsafeBufferPointer { gs in
                weights.withUnsafeBufferPointer { ws in
                    var n0 = 0
                    while n0 < g.batch {
                        let n = min(chunk, g.batch - n0)
                        mask.apply(gs.baseAddress! + n0 * perImageOut, start: n0 * perImageOut, count: n * perImageOut,
                                   into: dyChunk)
                        var part = g
                        part.batch = n
                        ConvKernels.inputGrad(part, dy: dyChunk, w: ws.baseAddress!, dx: dx + n0 * perImageIn, identity: identity)
                        n0 += n
                    }
                }
            }
        }
    }
    return Tensor(shape: g.inputShape, storage: dx)
}

/// The gradients [dx, dweight, dbias?] of a convolution with geometry `g`, given dy (N, O, H', W').
func convolutionGrads(_ g: ConvGeometry, dy: [Float], weights: [Float], identity: WeightsIdentity? = nil, input: [Float],
                      wantX: Bool, wantW: Bool, wantB: Bool, hasBias: Bool) -> [Tensor?] {
    var grads: [Tensor?] = []
    dy.withUnsafeBufferPointer { dys in
        let dyp = dys.baseAddress!
        if wantX {
            let dx = weights.withUnsafeBufferPointer { ws in
                makeUninitializedArray(g.batch * g.inChannels * g.inPlane) { ConvKernels.inputGrad(g, dy: dyp, w: ws.baseAddress!, dx: $0, identity: identity) }
            }
            grads.append(Tensor(shape: g.inputShape, storage: dx))
        } else {
            grads.append(nil)
        }
        if wantW {
            let dw = input.withUnsafeBufferPointer { xs in
                makeUninitializedArray(g.outChannels * g.kg) { ConvKernels.weightGrad(g, x: xs.baseAddress!, dy: dyp, dw: $0) }
            }
            grads.append(Tensor(shape: [g.outChannels, g.cg, g.kh, g.kw], storage: dw))
        } else {
            grads.append(nil)
        }
        if hasBias {
            if wantB {
                let db = makeUninitializedArray(g.outChannels) {
                    ConvKernels.biasGrad(batch: g.batch, channels: g.outChannels, plane: g.outPlane, dy: dyp, db: $0)
                }
                grads.append(Tensor(shape: [g.outChannels], storage: db))
            } else {
                grads.append(nil)
            }
        }
    }
    return grads
}
