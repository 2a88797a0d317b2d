// Separable linear resampling of image planes: out = Rows · x · Colsᵀ for each (H, W) plane, with Rows and
// Cols sparse. Bilinear resizing, Gaussian blur and padding are all this one kernel with different matrices;
// their gradients apply the transposed matrices, so backward is a gather too (split by output, deterministic).

/// A sparse (outCount × inCount) matrix stored by rows: output i = Σ weight[t] · input[index[t]] over its taps.
struct ResampleMatrix {
    let outCount: Int
    let inCount: Int
    /// Taps of row i are `rowStart[i]..<rowStart[i+1]`.
    var rowStart: [Int]
    var index: [Int]
    var weight: [Float]

    /// Builds the matrix from each output's list of (input index, weight) taps.
    init(outCount: Int, inCount: Int, taps: (Int) -> [(Int, Float)]) {
        self.outCount = outCount
        self.inCount = inCount
        rowStart = [0]
        index = []
        weight = []
        for i in 0..<outCount {
            for (j, w) in taps(i) {
                precondition(j >= 0 && j < inCount, "ResampleMatrix: tap \(j) outside 0..<\(inCount)")
                index.append(j)
                weight.append(w)
            }
            rowStart.append(index.count)
        }
    }

    /// The transpose, with each row's taps in increasing output order (a fixed summation order).
    func transposed() -> ResampleMatrix {
        var lists = [[(Int, Float)]](repeating: [], count: inCount)
        for i in 0..<outCount {
            for t in rowStart[i]..<rowStart[i + 1] { lists[index[t]].append((i, weight[t])) }
        }
        return ResampleMatrix(outCount: inCount, inCount: outCount) { lists[$0] }
    }
}

enum Separable {
    /// Applies `rows` down the height and `cols` along the width of `planes` planes of shape (rows.in, cols.in).
    static func apply(_ x: [Float], planes: Int, rows: ResampleMatrix, cols: ResampleMatrix) -> [Float] {
        let h = rows.inCount, w = cols.inCount, oh = rows.outCount, ow = cols.outCount
        precondition(x.count == planes * h * w, "Separable.apply: \(x.count) values for \(planes)x\(h)x\(w)")
        // Width first: tmp is (planes, h, ow).
        var tmp = [Float](repeating: 0, count: planes * h * ow)
        x.withUnsafeBufferPointer { src in
            tmp.withUnsafeMutableBufferPointer { dst in
                cols.index.withUnsafeBufferPointer { ci in
                    cols.weight.withUnsafeBufferPointer { cw in
                        let src = src.baseAddress!, dst = dst.baseAddress!
                        Parallel.forRanges(planes * h, grain: max(1, 16384 / max(w, 1))) { range in
                            for row in range {
                                let s = src + row * w, d = dst + row * ow
                                for j in 0..<ow {
                                    var acc: Float = 0
                                    for t in cols.rowStart[j]..<cols.rowStart[j + 1] { acc += cw[t] * s[ci[t]] }
                                    d[j] = acc
                                }
                            }
                        }
                    }
                }
            }
        }
        // Then the height, whole rows at a time (vectorises over ow): out is (planes, oh, ow).
        var out = [Float](repeating: 0, count: planes * oh * ow)
        tmp.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                let src = src.baseAddress!, dst = dst.baseAddress!
                Parallel.forRanges(planes * oh, grain: max(1, 16384 / max(ow, 1))) { range in
                    for row in range {
                        let p = row / oh, i = row % oh
                        let d = dst + row * ow
                        for t in rows.rowStart[i]..<rows.rowStart[i + 1] {
                            let wgt = rows.weight[t], s = src + (p * h + rows.index[t]) * ow
                            for j in 0..<ow { d[j] += wgt * s[j] }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Applies the resampling to the last two axes of `x`, recording the transposed resampling as its gradient.
    static func op(_ name: String, _ x: Tensor, rows: ResampleMatrix, cols: ResampleMatrix,
                   fill: ((inout [Float], Int) -> Void)? = nil) -> Tensor {
        let planes = x.shape.dropLast(2).reduce(1, *)
        var out = apply(x.storage, planes: planes, rows: rows, cols: cols)
        fill?(&out, planes)
        let outShape = Array(x.shape.dropLast(2)) + [rows.outCount, cols.outCount]
        let inShape = x.shape
        return Tensor.result(op: name, shape: outShape, storage: out, inputs: [x]) { g in
            let gx = apply(g.storage, planes: planes, rows: rows.transposed(), cols: cols.transposed())
            return [Tensor(shape: inShape, storage: gx)]
        }
    }
}
