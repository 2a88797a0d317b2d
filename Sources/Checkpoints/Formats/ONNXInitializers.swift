import Foundation

/// Reads the initializers (weights) of an ONNX model: ModelProto.graph (7) -> GraphProto.initializer (5) -> TensorProto.
enum ONNXInitializers {
    static func read(_ data: Data) throws -> Checkpoint {
        var model = ProtobufReader(data)
        var metadata: [String: String] = [:]
        var graph: Data?
        while let field = try model.nextField() {
            switch (field.number, field.wireType) {
            case (1, .varint): metadata["ir_version"] = String(try model.varint())
            case (2, .lengthDelimited): metadata["producer_name"] = String(decoding: try model.lengthDelimited(), as: UTF8.self)
            case (3, .lengthDelimited): metadata["producer_version"] = String(decoding: try model.lengthDelimited(), as: UTF8.self)
            case (7, .lengthDelimited): graph = try model.lengthDelimited()
            case (14, .lengthDelimited):  // metadata_props: StringStringEntryProto {key = 1, value = 2}
                var entry = ProtobufReader(try model.lengthDelimited())
                var key = "", value = ""
                while let f = try entry.nextField() {
                    if f.wireType == .lengthDelimited, f.number == 1 { key = String(decoding: try entry.lengthDelimited(), as: UTF8.self) }
                    else if f.wireType == .lengthDelimited, f.number == 2 { value = String(decoding: try entry.lengthDelimited(), as: UTF8.self) }
                    else { try entry.skip(f.wireType) }
                }
                metadata[key] = value
            default: try model.skip(field.wireType)
            }
        }
        guard let graphBytes = graph else { throw CheckpointError.onnx(initializer: "", .noGraph) }
        var graphReader = ProtobufReader(graphBytes)
        var tensors: [CheckpointTensor] = []
        while let field = try graphReader.nextField() {
            if field.number == 5, field.wireType == .lengthDelimited {
                tensors.append(try tensor(try graphReader.lengthDelimited(), fileBytes: data.count))
            } else {
                try graphReader.skip(field.wireType)
            }
        }
        return try Checkpoint(format: .onnx, tensors: tensors, metadata: metadata)
    }

    /// ONNX TensorProto.DataType -> DType (nil for types a weight file does not need).
    private static func dtype(_ code: Int64) -> DType? {
        switch code {
        case 1: return .f32
        case 2: return .u8
        case 3: return .i8
        case 5: return .i16
        case 6: return .i32
        case 7: return .i64
        case 9: return .bool
        case 10: return .f16
        case 11: return .f64
        case 16: return .bf16
        default: return nil
        }
    }

    /// One TensorProto: dims (1), data_type (2), float_data (4), int32_data (5), int64_data (7), name (8),
    /// raw_data (9), double_data (10), data_location (14; 1 = external).
    static func tensor(_ bytes: Data, fileBytes: Int) throws -> CheckpointTensor {
        var message = ProtobufReader(bytes)
        var dims: [Int64] = [], dataType: Int64 = 0, name = "", raw: Data?
        var floats: [UInt32] = [], int32s: [Int64] = [], int64s: [Int64] = [], doubles: [UInt64] = []
        var external = false
        while let field = try message.nextField() {
            switch field.number {
            case 1: dims += try message.varints(field.wireType)
            case 2: dataType = try message.varints(field.wireType).last ?? 0
            case 4: floats += try fixed(&message, field.wireType, width: 4).map { UInt32(truncatingIfNeeded: $0) }
            case 5: int32s += try message.varints(field.wireType)
            case 7: int64s += try message.varints(field.wireType)
            case 8 where field.wireType == .lengthDelimited: name = String(decoding: try message.lengthDelimited(), as: UTF8.self)
            case 9 where field.wireType == .lengthDelimited: raw = try message.lengthDelimited()
            case 10: doubles += try fixed(&message, field.wireType, width: 8)
            case 13: external = true; try message.skip(field.wireType)
            case 14: if try message.varints(field.wireType).last == 1 { external = true }
            default: try message.skip(field.wireType)
            }
        }
        let label = name.isEmpty ? "(unnamed)" : name
        if external { throw CheckpointError.onnx(initializer: label, .externalData) }
        guard let type = dtype(dataType) else { throw CheckpointError.onnx(initializer: label, .unsupportedDataType(dataType)) }
        let shownDims = Array(dims.prefix(16))
        guard dims.allSatisfy({ $0 >= 0 }) else { throw CheckpointError.onnx(initializer: label, .negativeDimension(dims: shownDims)) }
        guard dims.allSatisfy({ $0 <= Int64(Int32.max) }) else {
            throw CheckpointError.onnx(initializer: label, .hugeDimensions(dims: shownDims))
        }
        let shape = dims.map { Int($0) }
        // Every value takes at least one byte of the file (raw or packed), whatever the dtype.
        guard let needed = try? tensorByteCount(shape, type, name: label) else {
            throw CheckpointError.onnx(initializer: label, .hugeDimensions(dims: shownDims))
        }
        guard needed / type.size <= fileBytes else {
            throw CheckpointError.onnx(initializer: label, .moreThanTheFile(dims: shownDims, bytes: needed, fileBytes: fileBytes))
        }
        if let raw { return try CheckpointTensor(name: label, dtype: type, shape: shape, data: raw) }

        // Typed fields: floats as bits, int32_data also carries f16/bf16 bits and small ints.
        var out = Data()
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) } }
        switch type {
        case .f32: floats.forEach { append($0) }
        case .f64: doubles.forEach { append($0) }
        case .i64: int64s.forEach { append($0) }
        case .i32: int32s.forEach { append(Int32(truncatingIfNeeded: $0)) }
        case .i16, .f16, .bf16: int32s.forEach { append(UInt16(truncatingIfNeeded: $0)) }
        case .i8, .u8, .bool: int32s.forEach { append(UInt8(truncatingIfNeeded: $0)) }
        }
        return try CheckpointTensor(name: label, dtype: type, shape: shape, data: out)
    }

    /// A repeated fixed-width field, packed or one value.
    private static func fixed(_ message: inout ProtobufReader, _ wireType: ProtobufReader.WireType, width: Int) throws -> [UInt64] {
        switch wireType {
        case .fixed32 where width == 4: return [UInt64(try message.fixed32())]
        case .fixed64 where width == 8: return [try message.fixed64()]
        case .lengthDelimited:
            let packed = try message.lengthDelimited()
            guard packed.count % width == 0 else { throw CheckpointError.protobuf(.packedLength(bytes: packed.count, width: width)) }
            var reader = ByteReader(packed)
            return try (0..<(packed.count / width)).map { _ in try reader.uintLE(width) }
        default:
            throw CheckpointError.protobuf(.wrongWireType(field: "fixed-width", wireType: wireType.rawValue))
        }
    }
}
