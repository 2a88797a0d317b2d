import Foundation

/// An ONNX model's computation graph as data (ModelProto.graph): its nodes in file order, its inputs and outputs,
/// and its initializers. Only reads; what the nodes mean is the Models importer's business.
///
/// Every length is bounded by the bytes that remain (ProtobufReader) and every count by a limit, so a hostile file
/// costs at most a few times its size and gets a typed `CheckpointError`, never a crash.
public struct ONNXGraph: Sendable {
    /// One dimension of a declared shape.
    public enum Dimension: Equatable, Sendable {
        case value(Int64)
        /// A named symbolic size ("batch", "unk__99").
        case param(String)
        case unknown
    }

    /// A graph input or output (ValueInfoProto): its name and, when declared, its tensor element type and shape.
    public struct ValueInfo: Equatable, Sendable {
        public var name: String
        /// TensorProto.DataType (1 = float), nil when the type is not a tensor or not declared.
        public var elementType: Int64?
        /// nil when no shape is declared.
        public var dims: [Dimension]?
    }

    /// A node attribute (AttributeProto), by its declared type.
    public enum Attribute: Sendable {
        case float(Float)
        case int(Int64)
        case string(String)
        case tensor(CheckpointTensor)
        case floats([Float])
        case ints([Int64])
        /// A type the importer has no use for (graphs, sparse tensors, lists of strings or tensors).
        case other(type: Int64)
    }

    /// One node (NodeProto). Empty strings in `inputs` stand for absent optional inputs, as in ONNX.
    public struct Node: Sendable {
        public var name: String
        public var opType: String
        /// "" (or "ai.onnx") is the default operator set.
        public var domain: String
        public var inputs: [String]
        public var outputs: [String]
        public var attributes: [String: Attribute]

        /// The name errors use: the node's own, else its first output's.
        public var label: String { !name.isEmpty ? name : (outputs.first { !$0.isEmpty } ?? "(unnamed \(opType))") }
    }

    public var nodes: [Node]
    /// The declared graph inputs that are not initializers (older exporters list the weights as inputs too).
    public var inputs: [ValueInfo]
    public var outputs: [ValueInfo]
    /// Initializers by name.
    public var initializers: [String: CheckpointTensor]
    /// The version of the default ("" / "ai.onnx") operator set; 1 when the file imports none.
    public var opset: Int64
    public var producer: String

    /// Counts beyond any real CNN's (ResNet-152 has about 500 nodes; tf2onnx graphs a few thousand).
    static let nodeLimit = 200_000
    static let listLimit = 100_000

    // MARK: Reading

    /// Reads the ONNX file at `path` (memory-mapped); errors name the file.
    public static func load(path: String) throws -> ONNXGraph {
        try withFileName(path) { try read(try mapFile(path)) }
    }

    /// Parses a ModelProto: producer_name (2), graph (7), opset_import (8: domain 1, version 2).
    public static func read(_ data: Data) throws -> ONNXGraph {
        var model = ProtobufReader(data)
        var graphBytes: Data?, producer = "", opset: Int64 = 1
        while let field = try model.nextField() {
            switch (field.number, field.wireType) {
            case (2, .lengthDelimited): producer = text(try model.lengthDelimited())
            case (7, .lengthDelimited): graphBytes = try model.lengthDelimited()
            case (8, .lengthDelimited):
                var entry = ProtobufReader(try model.lengthDelimited())
                var domain = "", version: Int64 = 1
                while let f = try entry.nextField() {
                    switch (f.number, f.wireType) {
                    case (1, .lengthDelimited): domain = text(try entry.lengthDelimited())
                    case (2, _): version = try entry.varints(f.wireType).last ?? 1
                    default: try entry.skip(f.wireType)
                    }
                }
                if domain.isEmpty || domain == "ai.onnx" { opset = version }
            default: try model.skip(field.wireType)
            }
        }
        guard let graphBytes else { throw CheckpointError.onnx(initializer: "", .noGraph) }
        return try graph(graphBytes, fileBytes: data.count, opset: opset, producer: producer)
    }

    /// GraphProto: node (1), initializer (5), input (11), output (12).
    private static func graph(_ bytes: Data, fileBytes: Int, opset: Int64, producer: String) throws -> ONNXGraph {
        var reader = ProtobufReader(bytes)
        var nodes: [Node] = [], declaredInputs: [ValueInfo] = [], outputs: [ValueInfo] = []
        var initializers: [String: CheckpointTensor] = [:]
        while let field = try reader.nextField() {
            guard field.wireType == .lengthDelimited else { try reader.skip(field.wireType); continue }
            switch field.number {
            case 1:
                guard nodes.count < nodeLimit else { throw CheckpointError.onnx(initializer: "", .tooMany(what: "nodes", count: nodes.count + 1, limit: nodeLimit)) }
                nodes.append(try node(try reader.lengthDelimited(), fileBytes: fileBytes))
            case 5:
                let tensor = try ONNXInitializers.tensor(try reader.lengthDelimited(), fileBytes: fileBytes)
                guard initializers[tensor.name] == nil else { throw CheckpointError.duplicateTensor(tensor.name) }
                initializers[tensor.name] = tensor
            case 11, 12:
                let info = try valueInfo(try reader.lengthDelimited())
                if field.number == 11 { declaredInputs.append(info) } else { outputs.append(info) }
                guard declaredInputs.count + outputs.count <= listLimit else {
                    throw CheckpointError.onnx(initializer: "", .tooMany(what: "inputs and outputs", count: declaredInputs.count + outputs.count, limit: listLimit))
                }
            default: try reader.skip(field.wireType)
            }
        }
        let inputs = declaredInputs.filter { initializers[$0.name] == nil }
        return ONNXGraph(nodes: nodes, inputs: inputs, outputs: outputs, initializers: initializers, opset: opset, producer: producer)
    }

    /// NodeProto: input (1), output (2), name (3), op_type (4), attribute (5), domain (7).
    private static func node(_ bytes: Data, fileBytes: Int) throws -> Node {
        var reader = ProtobufReader(bytes)
        var node = Node(name: "", opType: "", domain: "", inputs: [], outputs: [], attributes: [:])
        var attributes: [(String, Attribute)] = []
        while let field = try reader.nextField() {
            guard field.wireType == .lengthDelimited else { try reader.skip(field.wireType); continue }
            let payload = try reader.lengthDelimited()
            switch field.number {
            case 1: node.inputs.append(text(payload))
            case 2: node.outputs.append(text(payload))
            case 3: node.name = text(payload)
            case 4: node.opType = text(payload)
            case 5: attributes.append(try attribute(payload, fileBytes: fileBytes))
            case 7: node.domain = text(payload)
            default: break
            }
            guard node.inputs.count + node.outputs.count + attributes.count <= listLimit else {
                throw CheckpointError.onnx(initializer: "", .tooMany(what: "inputs, outputs and attributes on one node", count: listLimit + 1, limit: listLimit))
            }
        }
        guard !node.opType.isEmpty else { throw CheckpointError.onnx(initializer: "", .badNode(node: node.label, what: "has no op_type")) }
        for (name, value) in attributes {
            guard node.attributes.updateValue(value, forKey: name) == nil else {
                throw CheckpointError.onnx(initializer: "", .badNode(node: node.label, what: "has two attributes named '\(name)'"))
            }
        }
        return node
    }

    /// AttributeProto: name (1), f (2), i (3), s (4), t (5), floats (7), ints (8), type (20).
    private static func attribute(_ bytes: Data, fileBytes: Int) throws -> (String, Attribute) {
        var reader = ProtobufReader(bytes)
        var name = "", type: Int64 = 0
        var f: Float?, i: Int64?, s: String?, t: CheckpointTensor?, floats: [Float] = [], ints: [Int64] = []
        while let field = try reader.nextField() {
            switch (field.number, field.wireType) {
            case (1, .lengthDelimited): name = text(try reader.lengthDelimited())
            case (2, .fixed32): f = Float(bitPattern: try reader.fixed32())
            case (3, _): i = try reader.varints(field.wireType).last
            case (4, .lengthDelimited): s = text(try reader.lengthDelimited())
            case (5, .lengthDelimited): t = try ONNXInitializers.tensor(try reader.lengthDelimited(), fileBytes: fileBytes)
            case (7, .fixed32): floats.append(Float(bitPattern: try reader.fixed32()))
            case (7, .lengthDelimited):
                let packed = try reader.lengthDelimited()
                guard packed.count % 4 == 0 else { throw CheckpointError.protobuf(.packedLength(bytes: packed.count, width: 4)) }
                var values = ByteReader(packed)
                for _ in 0..<(packed.count / 4) { floats.append(Float(bitPattern: UInt32(try values.uintLE(4)))) }
            case (8, _): ints += try reader.varints(field.wireType)
            case (20, _): type = try reader.varints(field.wireType).last ?? 0
            default: try reader.skip(field.wireType)
            }
        }
        // AttributeType: FLOAT 1, INT 2, STRING 3, TENSOR 4, FLOATS 6, INTS 7. Files from old exporters may omit
        // `type`; then the one field that is set decides.
        switch type {
        case 1: return (name, .float(f ?? 0))
        case 2: return (name, .int(i ?? 0))
        case 3: return (name, .string(s ?? ""))
        case 4:
            guard let t else { throw CheckpointError.onnx(initializer: "", .badNode(node: name, what: "tensor attribute '\(name)' holds no tensor")) }
            return (name, .tensor(t))
        case 6: return (name, .floats(floats))
        case 7: return (name, .ints(ints))
        case 0:
            if let t { return (name, .tensor(t)) }
            if let f { return (name, .float(f)) }
            if let i { return (name, .int(i)) }
            if let s { return (name, .string(s)) }
            if !ints.isEmpty { return (name, .ints(ints)) }
            if !floats.isEmpty { return (name, .floats(floats)) }
            return (name, .other(type: 0))
        default: return (name, .other(type: type))
        }
    }

    /// ValueInfoProto: name (1), type (2) -> TypeProto.tensor_type (1) -> elem_type (1), shape (2) -> dim (1) ->
    /// dim_value (1) / dim_param (2).
    private static func valueInfo(_ bytes: Data) throws -> ValueInfo {
        var reader = ProtobufReader(bytes)
        var info = ValueInfo(name: "", elementType: nil, dims: nil)
        while let field = try reader.nextField() {
            guard field.number == 2, field.wireType == .lengthDelimited else {
                if field.number == 1, field.wireType == .lengthDelimited { info.name = text(try reader.lengthDelimited()) }
                else { try reader.skip(field.wireType) }
                continue
            }
            var type = ProtobufReader(try reader.lengthDelimited())
            while let t = try type.nextField() {
                guard t.number == 1, t.wireType == .lengthDelimited else { try type.skip(t.wireType); continue }
                var tensor = ProtobufReader(try type.lengthDelimited())
                while let f = try tensor.nextField() {
                    switch (f.number, f.wireType) {
                    case (1, _): info.elementType = try tensor.varints(f.wireType).last
                    case (2, .lengthDelimited): info.dims = try dims(try tensor.lengthDelimited())
                    default: try tensor.skip(f.wireType)
                    }
                }
            }
        }
        return info
    }

    private static func dims(_ bytes: Data) throws -> [Dimension] {
        var shape = ProtobufReader(bytes)
        var dims: [Dimension] = []
        while let field = try shape.nextField() {
            guard field.number == 1, field.wireType == .lengthDelimited else { try shape.skip(field.wireType); continue }
            var dim = ProtobufReader(try shape.lengthDelimited())
            var value = Dimension.unknown
            while let f = try dim.nextField() {
                switch (f.number, f.wireType) {
                case (1, _): value = .value(try dim.varints(f.wireType).last ?? 0)
                case (2, .lengthDelimited): value = .param(text(try dim.lengthDelimited()))
                default: try dim.skip(f.wireType)
                }
            }
            dims.append(value)
            guard dims.count <= 64 else { throw CheckpointError.onnx(initializer: "", .tooMany(what: "dimensions in one shape", count: dims.count, limit: 64)) }
        }
        return dims
    }

    private static func text(_ bytes: Data) -> String { String(decoding: bytes, as: UTF8.self) }
}
