import Models
import TensorCore

// The objectives and regularisers, each a score per image (N,).

extension Objective {
    /// The spatial mean of filter `filters[b]` of `layer` for image b, ignoring `border` units on each side.
    public static func channel(_ layer: LayerRef, filters: [Int], border: Int = 0) -> Objective {
        let name = "channel(\(layer))"
        var requirements = [ObjectiveRequirement.channels(filters, objective: name, layer: layer)]
        if border > 0 {
            requirements.append(ObjectiveRequirement(layer: layer) { shape in
                guard shape.count == 4, 2 * border < shape[2], 2 * border < shape[3] else {
                    throw ObjectiveError.borderTooWide(objective: name, layer: layer.name, border: border,
                                                       height: shape.count == 4 ? shape[2] : 1, width: shape.count == 4 ? shape[3] : 1)
                }
            })
        }
        return Objective(name: name, reads: [LayerRead(layer, channels: Set(filters))], requirements: requirements) { ctx in
            spatialMean(ctx.planes(layer, filters: filters), border: border)
        }
    }

    /// The activation of filter `filters[b]` at one position (the centre by default).
    public static func neuron(_ layer: LayerRef, filters: [Int], row: Int? = nil, column: Int? = nil) -> Objective {
        let name = "neuron(\(layer))"
        let position = ObjectiveRequirement(layer: layer) { shape in
            guard shape.count == 4 else { throw ObjectiveError.notSpatial(objective: name, layer: layer.name) }
            let (h, w) = (shape[2], shape[3])
            let y = row ?? h / 2, x = column ?? w / 2
            guard y >= 0 && y < h && x >= 0 && x < w else {
                throw ObjectiveError.positionOutside(objective: name, layer: layer.name, row: y, column: x, height: h, width: w)
            }
        }
        return Objective(name: name, reads: [LayerRead(layer, channels: Set(filters))],
                         requirements: [.channels(filters, objective: name, layer: layer), position]) { ctx in
            let planes = ctx.planes(layer, filters: filters)
            let (n, h, w) = (planes.shape[0], planes.shape[1], planes.shape[2])
            let y = row ?? h / 2, x = column ?? w / 2
            precondition(y >= 0 && y < h && x >= 0 && x < w, "neuron: position (\(y), \(x)) outside the \(h)x\(w) map of \(layer)")
            var mask = [Float](repeating: 0, count: h * w)
            mask[y * w + x] = 1
            return sum(planes * Tensor(shape: [1, h, w], storage: mask), axes: [1, 2]) + Tensor(zeros: [n])
        }
    }

    /// DeepDream: the mean of the squared activations of the whole layer.
    public static func layerMeanSquare(_ layer: LayerRef) -> Objective {
        Objective(name: "mean_square(\(layer))", reads: [LayerRead(layer)]) { ctx in
            mean(square(ctx.activation(layer)), axes: [1, 2, 3])
        }
    }

    /// The logit of ImageNet class `classIndex` at `layer` (the logits, `fc8`; needs classifier weights).
    public static func classLogit(_ classIndex: Int, layer: LayerRef) -> Objective {
        let range = ObjectiveRequirement(layer: layer) { shape in
            let classes = shape.count >= 2 ? shape[1] : 0
            guard classIndex >= 0 && classIndex < classes else { throw ObjectiveError.classOutOfRange(index: classIndex, classes: classes) }
        }
        return Objective(name: "class(\(classIndex))", reads: [LayerRead(layer)], requirements: [range]) { ctx in
            let logits = ctx.activation(layer)
            let n = logits.shape[0], classes = logits.shape[1]
            precondition(classIndex >= 0 && classIndex < classes, "class \(classIndex) out of range 0..<\(classes)")
            var mask = [Float](repeating: 0, count: classes)
            mask[classIndex] = 1
            return sum(logits * Tensor(shape: [1, classes], storage: mask), axes: [1]) + Tensor(zeros: [n])
        }
    }

    /// Batch diversity (lucid): minus the mean cosine similarity of each image's Gram matrix at `layer` with the
    /// others'. Couples the images of a batch, so use it only for several images of the same filter.
    public static func diversity(_ layer: LayerRef) -> Objective {
        let spatial = ObjectiveRequirement(layer: layer) { shape in
            guard shape.count == 4 else { throw ObjectiveError.notSpatial(objective: "diversity(\(layer))", layer: layer.name) }
        }
        return Objective(name: "diversity(\(layer))", reads: [LayerRead(layer)], requirements: [spatial]) { ctx in
            let act = ctx.activation(layer)
            let (n, c, h, w) = (act.shape[0], act.shape[1], act.shape[2], act.shape[3])
            guard n > 1 else { return Tensor(zeros: [n]) }
            let features = reshape(act, [n, c, h * w])
            var grams: [Tensor] = []
            for b in 0..<n {
                let f = reshape(slice(features, axis: 0, range: b..<(b + 1)), [c, h * w])
                let g = reshape(linear(f, weight: f), [1, c * c])
                grams.append(g / sqrt(sum(square(g)) + 1e-12))
            }
            let unit = concat(grams, axis: 0)                 // (N, C*C), rows of unit length
            let similarity = linear(unit, weight: unit)       // (N, N) cosine similarities
            let offDiagonal = sum(similarity, axes: [1]) - 1  // minus self-similarity
            return offDiagonal * (-1 / Float(n - 1))
        }
    }

    /// L1 penalty: mean |image - constant| per image (subtract it).
    public static func l1(constant: Float = 0.5) -> Objective {
        Objective(name: "l1", reads: []) { ctx in mean(abs(ctx.rendered - constant), axes: [1, 2, 3]) }
    }

    /// L2 penalty: mean (image - constant)^2 per image (subtract it).
    public static func l2(constant: Float = 0.5) -> Objective {
        Objective(name: "l2", reads: []) { ctx in mean(square(ctx.rendered - constant), axes: [1, 2, 3]) }
    }

    /// Total variation penalty: mean absolute difference of neighbouring pixels (subtract it).
    public static var totalVariation: Objective {
        Objective(name: "tv", reads: []) { ctx in
            let x = ctx.rendered
            let (h, w) = (x.shape[2], x.shape[3])
            let dy = slice(x, axis: 2, range: 1..<h) - slice(x, axis: 2, range: 0..<(h - 1))
            let dx = slice(x, axis: 3, range: 1..<w) - slice(x, axis: 3, range: 0..<(w - 1))
            return mean(abs(dy), axes: [1, 2, 3]) + mean(abs(dx), axes: [1, 2, 3])
        }
    }

    /// Blur penalty (lucid's blur_input_each_step as a score): mean squared distance to a blurred copy.
    public static func blurPenalty(sigma: Float = 1) -> Objective {
        Objective(name: "blur", reads: []) { ctx in
            let x = ctx.rendered
            let target = GradMode.withoutGrad { gaussianBlur(x, sigma: sigma, kernelSize: 2 * Int((3 * sigma).rounded(.up)) + 1) }
            return mean(square(x - target), axes: [1, 2, 3])
        }
    }
}

/// Spatial mean of (N, H, W) planes, ignoring `border` rows/columns on each side.
func spatialMean(_ planes: Tensor, border: Int) -> Tensor {
    let (h, w) = (planes.shape[1], planes.shape[2])
    guard border > 0 else { return mean(planes, axes: [1, 2]) }
    precondition(2 * border < h && 2 * border < w, "channel objective: border \(border) leaves nothing of a \(h)x\(w) map")
    let inner = slice(slice(planes, axis: 1, range: border..<(h - border)), axis: 2, range: border..<(w - border))
    return mean(inner, axes: [1, 2])
}
