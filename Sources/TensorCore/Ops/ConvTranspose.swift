// Transposed 2-D convolution: the adjoint of conv2d, so its forward pass is conv2d's input gradient and its
// input gradient is conv2d's forward pass (same kernels, geometry read the other way round).

/// Transposed convolution as PyTorch's ConvTranspose2d: x (N, C, H, W), weight (C, O/groups, kh, kw)
/// -> (N, O, (H-1)*stride - 2*padding + dilation*(kh-1) + outputPadding + 1, likewise for W).
public func convTranspose2d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
                            outputPadding: Int = 0, dilation: Int = 1, groups: Int = 1) -> Tensor {
    let g: ConvGeometry
    do {
        g = try convTransposeGeometry(input: x.shape, weight: weight.shape, bias: bias?.shape, stride: stride,
                                      padding: padding, outputPadding: outputPadding, dilation: dilation, groups: groups)
    } catch {
        preconditionFailure("\(error)")
    }
    // In `g` the roles are swapped: g's input is our output (N, O, Ho, Wo), g's output is our input x.
    let outShape = g.inputShape
    var out = x.storage.withUnsafeBufferPointer { xs in
        weight.storage.withUnsafeBufferPointer { ws in
            makeUninitializedArray(outShape.reduce(1, *)) { ConvKernels.inputGrad(g, dy: xs.baseAddress!, w: ws.baseAddress!, dx: $0) }
        }
    }
    if let bias {
        let plane = g.inPlane
        out.withUnsafeMutableBufferPointer { y in
            for n in 0..<g.batch {
                for o in 0..<g.inChannels {
                    let b = bias.storage[o], row = y.baseAddress! + (n * g.inChannels + o) * plane
                    for j in 0..<plane { row[j] += b }
                }
            }
        }
    }
    let inputs = [x, weight] + (bias.map { [$0] } ?? [])
    let wantX = Tensor.needsGrad(x), wantW = Tensor.needsGrad(weight), wantB = bias.map(Tensor.needsGrad) ?? false
    let weights = wantX ? weight.storage : []
    let savedInput = wantW ? x.storage : []
    let inCount = x.count, hasBias = bias != nil
    return Tensor.result(op: "convTranspose2d", shape: outShape, storage: out, inputs: inputs) { gradOut in
        var grads: [Tensor?] = []
        gradOut.storage.withUnsafeBufferPointer { gs in
            let gp = gs.baseAddress!
            if wantX {
                let dx = weights.withUnsafeBufferPointer { ws in
                    makeUninitializedArray(inCount) { ConvKernels.forward(g, x: gp, w: ws.baseAddress!, bias: nil, relu: false, y: $0) }
                }
                grads.append(Tensor(shape: g.outputShape, storage: dx))
            } else { grads.append(nil) }
            if wantW {
                let dw = savedInput.withUnsafeBufferPointer { xs in
                    makeUninitializedArray(g.outChannels * g.kg) { ConvKernels.weightGrad(g, x: gp, dy: xs.baseAddress!, dw: $0) }
                }
                grads.append(Tensor(shape: [g.outChannels, g.cg, g.kh, g.kw], storage: dw))
            } else { grads.append(nil) }
            if hasBias {
                if wantB {
                    let db = makeUninitializedArray(g.inChannels) {
                        ConvKernels.biasGrad(batch: g.batch, channels: g.inChannels, plane: g.inPlane, dy: gp, db: $0)
                    }
                    grads.append(Tensor(shape: [g.inChannels], storage: db))
                } else { grads.append(nil) }
            }
        }
        return grads
    }
}

/// The geometry of the convolution whose input gradient is this transposed convolution, or an error.
func convTransposeGeometry(input: [Int], weight: [Int], bias: [Int]?, stride: Int, padding: Int, outputPadding: Int,
                           dilation: Int, groups: Int) throws -> ConvGeometry {
    let op = "convTranspose2d"
    guard input.count == 4 else { throw ConvShapeError.inputNotRank4(op: op, shape: input) }
    guard weight.count == 4 else { throw ConvShapeError.weightNotRank4(op: op, layout: "(C, O/groups, kh, kw)", shape: weight) }
    guard stride >= 1, dilation >= 1, groups >= 1, padding >= 0 else {
        throw ConvShapeError.badStepSizes(op: op, stride: stride, dilation: dilation, groups: groups, padding: padding)
    }
    let (n, c, h, w) = (input[0], input[1], input[2], input[3])
    guard weight[0] == c else { throw ConvShapeError.channelMismatch(op: op, input: c, weightExpects: weight[0], weight: weight, groups: 1) }
    guard c % groups == 0 else { throw ConvShapeError.channelsNotGrouped(op: op, count: c, side: "input", groups: groups, weight: nil) }
    guard outputPadding >= 0, outputPadding < max(stride, dilation) else {
        throw ConvShapeError.outputPaddingTooLarge(op: op, outputPadding: outputPadding, stride: stride, dilation: dilation)
    }
    let o = weight[1] * groups, kh = weight[2], kw = weight[3]
    if let bias, bias != [o] { throw ConvShapeError.biasShape(op: op, outputs: o, weight: weight, bias: bias) }
    let outH = (h - 1) * stride - 2 * padding + dilation * (kh - 1) + outputPadding + 1
    let outW = (w - 1) * stride - 2 * padding + dilation * (kw - 1) + outputPadding + 1
    guard outH >= 1, outW >= 1 else {
        throw ConvShapeError.emptyOutput(op: op, height: outH, width: outW, input: input, weight: weight, padding: padding)
    }
    return ConvGeometry(batch: n, inChannels: o, inH: outH, inW: outW, outChannels: c, kh: kh, kw: kw, stride: stride,
                        dilation: dilation, groups: groups, padTop: padding, padLeft: padding, outH: h, outW: w)
}
