import Foundation
import Testing
@testable import Checkpoints

/// `ONNXGraph.read` against what the onnx package reads from the same files (Scripts/fixtures/onnx_models.py
/// writes graph_*.onnx and onnx_graphs.json), and on hostile bytes.
@Suite struct ONNXGraphTests {
    struct Listing: Decodable {
        struct Input: Decodable { var name: String; var elem_type: Int64; var dims: [Int64] }
        struct Node: Decodable {
            var name: String, op: String, inputs: [String], outputs: [String]
            var ints: [String: [Int64]], int: [String: Int64], float: [String: Float]
        }
        var opset: Int64, producer: String
        var inputs: [Input], outputs: [String]
        var initializers: [String: [Int]]
        var nodes: [Node]
    }

    static func listings() throws -> [String: Listing] {
        try JSONDecoder().decode([String: Listing].self, from: Fixture.data("onnx_graphs.json"))
    }

    @Test(arguments: ["graph_residual.onnx", "graph_tfstyle.onnx"])
    func readsWhatOnnxReads(_ file: String) throws {
        let expected = try #require(try Self.listings()[file])
        let graph = try ONNXGraph.load(path: try Fixture.path(file))
        #expect(graph.opset == expected.opset)
        #expect(graph.producer == expected.producer)
        #expect(graph.inputs.map(\.name) == expected.inputs.map(\.name))
        #expect(graph.inputs.map(\.elementType) == expected.inputs.map(\.elem_type))
        #expect(graph.inputs.map(\.dims) == expected.inputs.map { $0.dims.map(ONNXGraph.Dimension.value) })
        #expect(graph.outputs.map(\.name) == expected.outputs)
        #expect(graph.initializers.mapValues(\.shape) == expected.initializers)
        try #require(graph.nodes.count == expected.nodes.count)
        for (mine, theirs) in zip(graph.nodes, expected.nodes) {
            #expect(mine.name == theirs.name && mine.opType == theirs.op && mine.inputs == theirs.inputs && mine.outputs == theirs.outputs,
                    "\(mine.name): \(mine.opType) \(mine.inputs) -> \(mine.outputs)")
            for (key, value) in theirs.ints {
                guard case .ints(let v)? = mine.attributes[key] else { Issue.record("\(mine.name).\(key) not ints"); continue }
                #expect(v == value, "\(mine.name).\(key)")
            }
            for (key, value) in theirs.int {
                guard case .int(let v)? = mine.attributes[key] else { Issue.record("\(mine.name).\(key) not an int"); continue }
                #expect(v == value, "\(mine.name).\(key)")
            }
            for (key, value) in theirs.float {
                guard case .float(let v)? = mine.attributes[key] else { Issue.record("\(mine.name).\(key) not a float"); continue }
                #expect(v == value, "\(mine.name).\(key)")
            }
        }
        // Constant nodes carry their tensor.
        let constants = graph.nodes.filter { $0.opType == "Constant" }
        #expect(!constants.isEmpty && constants.allSatisfy { if case .tensor? = $0.attributes["value"] { return true }; return false })
    }

    /// Every prefix of a real graph is read or refused with a typed error, never a crash.
    @Test func everyTruncationIsATypedErrorOrAGraph() throws {
        let data = try Fixture.data("graph_residual.onnx")
        var refused = 0
        for n in stride(from: 0, to: data.count, by: 7) {
            do { _ = try ONNXGraph.read(data.prefix(n)) } catch is CheckpointError { refused += 1 }
        }
        #expect(refused > data.count / 14, "most prefixes cut a field in half and must be refused")
    }

    /// Seeded byte flips: typed errors or graphs, nothing else.
    @Test func flippedBytesAreTypedErrorsOrGraphs() throws {
        let data = [UInt8](try Fixture.data("graph_tfstyle.onnx"))
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<400 {
            var bytes = data
            for _ in 0..<3 {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                bytes[Int(state >> 33) % bytes.count] = UInt8(truncatingIfNeeded: state >> 17)
            }
            do { _ = try ONNXGraph.read(Data(bytes)) } catch is CheckpointError {}
        }
    }

    @Test func refusesAFileWithoutAGraph() throws {
        #expect(throws: CheckpointError.onnx(initializer: "", .noGraph)) { try ONNXGraph.read(Data([0x08, 0x07])) }
    }
}
