import Checkpoints
import Foundation
import Models

/// The ONNX graph parser, and the importer behind it (graph -> architecture -> network), on any bytes.
enum ONNXTargets {
    static let all: [FuzzTarget] = [
        FuzzTarget(name: "onnx-graph", errorModules: ["Checkpoints"]) { input, _ in
            _ = try ONNXGraph.read(Data(input))
        },
        FuzzTarget(name: "onnx-import", errorModules: ["Checkpoints", "Models"]) { input, _ in
            _ = try Network.importONNX(try ONNXGraph.read(Data(input)), name: "fuzz")
        },
    ]
}
