// Fully connected layer y = x W^T + b with its derivatives, on the shared GEMM.

/// A fully connected layer as PyTorch's `F.linear`: x (N, in), weight (out, in), bias (out) -> (N, out).
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
    precondition(x.rank == 2, "linear: input must be (N, in), got shape \(x.shape)")
    precondition(weight.rank == 2, "linear: weight must be (out, in), got shape \(weight.shape)")
    let (n, inF, outF) = (x.shape[0], x.shape[1], weight.shape[0])
    precondition(weight.shape[1] == inF, "linear: input has \(inF) features, weight expects \(weight.shape[1]) (weight \(weight.shape))")
    if let bias { precondition(bias.shape == [outF], "linear: bias must have shape [\(outF)] for weight \(weight.shape), got \(bias.shape)") }
    var out = x.storage.withUnsafeBufferPointer { xs in
        weight.storage.withUnsafeBufferPointer { ws in
            makeUninitializedArray(n * outF) { y in
                if n <= 16 {
                    SmallBatchLinear.multiply(n: n, inF: inF, outF: outF, x: xs.baseAddress!, w: ws.baseAddress!, y: y)
                    return
                }
                // y[N, out] = x[N, in] * W^T, where W^T[k, j] = W[j, k].
                GEMM.multiply(m: n, n: outF, k: inF, xs.baseAddress!, aRowStride: inF, aColStride: 1,
                              ws.baseAddress!, bRowStride: 1, bColStride: inF, y, ldc: outF, accumulate: false)
            }
        }
    }
    if let bias {
        for i in 0..<n { for j in 0..<outF { out[i * outF + j] += bias.storage[j] } }
    }
    let wantX = Tensor.needsGrad(x), wantW = Tensor.needsGrad(weight), wantB = bias.map(Tensor.needsGrad) ?? false
    let weights = wantX ? weight.storage : [], input = wantW ? x.storage : []
    let hasBias = bias != nil
    let inputs = [x, weight] + (bias.map { [$0] } ?? [])
    return Tensor.result(op: "linear", shape: [n, outF], storage: out, inputs: inputs) { gradOut in
        gradOut.storage.withUnsafeBufferPointer { gs in
            let g = gs.baseAddress!
            var grads: [Tensor?] = []
            if wantX {
                // dx[N, in] = dy[N, out] * W[out, in]
                let dx = weights.withUnsafeBufferPointer { ws in
                    makeUninitializedArray(n * inF) {
                        GEMM.multiply(m: n, n: inF, k: outF, g, aRowStride: outF, aColStride: 1,
                                      ws.baseAddress!, bRowStride: inF, bColStride: 1, $0, ldc: inF, accumulate: false)
                    }
                }
                grads.append(Tensor(shape: [n, inF], storage: dx))
            } else { grads.append(nil) }
            if wantW {
                // dW[out, in] = dy^T[out, N] * x[N, in]
                let dw = input.withUnsafeBufferPointer { xs in
                    makeUninitializedArray(outF * inF) {
                        GEMM.multiply(m: outF, n: inF, k: n, g, aRowStride: 1, aColStride: outF,
                                      xs.baseAddress!, bRowStride: inF, bColStride: 1, $0, ldc: inF, accumulate: false)
                    }
                }
                grads.append(Tensor(shape: [outF, inF], storage: dw))
            } else { grads.append(nil) }
            if hasBias {
                if wantB {
                    var db = [Float](repeating: 0, count: outF)
                    for i in 0..<n { for j in 0..<outF { db[j] += g[i * outF + j] } }
                    grads.append(Tensor(shape: [outF], storage: db))
                } else { grads.append(nil) }
            }
            return grads
        }
    }
}
