import Models

extension ObjectiveRequirement {
    /// Every filter read must exist in the layer.
    static func channels(_ filters: [Int], objective: String, layer: LayerRef) -> ObjectiveRequirement {
        ObjectiveRequirement(layer: layer) { shape in
            let channels = shape.count >= 2 ? shape[1] : 0
            if let bad = filters.first(where: { $0 < 0 || $0 >= channels }) {
                throw ObjectiveError.channelOutOfRange(objective: objective, layer: layer.name, channel: bad, channels: channels)
            }
        }
    }
}

extension Objective {
    /// Checks the objective's own values (positions, class indices, filters, borders) against the activation
    /// shapes `network` gives for inputs of each of `sides` pixels square, before any work: values from a user
    /// then give an error naming them, never a failed precondition mid-run. Sides too small to reach a layer are
    /// the size check's to report (`Network.checkInputSize`) and are skipped here.
    public func validate(network: Network, sides: [Int]) throws {
        for requirement in requirements {
            let layer = requirement.layer
            guard reads.contains(where: { $0.layer.node == layer.node }) else {
                throw ObjectiveError.notTapped(objective: name, layer: layer.name)
            }
            _ = try network.layer(layer.name)   // the classifier's layers need its weights
            let (index, channels) = (layer.node.index, layer.channels)
            let architecture = network.architecture
            for side in Set(sides).sorted() {
                let shape: [Int]
                if !layer.followsInputSize {
                    if case let .adaptiveAvgPool(h, w) = architecture.layers[index].kind {
                        shape = [1, channels, h, w]
                    } else {
                        shape = [1, channels]
                    }
                } else {
                    guard let (h, w) = architecture.outputSize(through: index, height: side, width: side) else { continue }
                    shape = [1, channels, h, w]
                }
                try requirement.check(shape)
            }
        }
    }
}
