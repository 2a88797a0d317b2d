/// A checkpoint that cannot be read, written or imported: which file, where, and what is wrong.
///
/// Parsers deep inside a format throw a case without a file name; the public entry points
/// (`Checkpoint.load`, `SafeTensors.write`, `WeightImport`) wrap it in `.inFile` so the message reads
/// `x.pth: refuses to load the global 'os.system': ...`. Callers match on cases, never on message text.
public indirect enum CheckpointError: Error, CustomStringConvertible, Equatable {
    /// `error`, raised while reading or writing the file called `file` (its last path component).
    case inFile(String, CheckpointError)
    /// The file itself: missing, a directory, not a regular file, unreadable, unwritable.
    case file(FileProblem)
    /// No supported format recognised from the first bytes.
    case unknownFormat(firstBytes: String)
    /// `what` needs `needed` bytes at `offset` but only `remaining` are left.
    case truncated(what: String, needed: Int, offset: Int, remaining: Int)
    /// A text field (pickle protocol 0) runs to the end of the data without its newline.
    case unterminatedLine(what: String, offset: Int)
    /// A seek to `offset` outside the `size` bytes of the data.
    case offsetOutOfRange(offset: Int, size: Int)
    /// A pickle that the restricted unpickler cannot interpret: where, at which opcode, and why.
    case malformedPickle(offset: Int, opcode: UInt8, PickleProblem)
    /// A pickle naming a global outside the allow-list (module.name): refused before anything is built.
    case refusedGlobal(String)
    /// A pickle feature refused because it could name globals indirectly or needs data the file cannot supply.
    case refusedPickleFeature(PickleFeature)
    /// The tensor `name` (its key in the checkpoint) is inconsistent.
    case tensor(String, TensorProblem)
    /// Two tensors share one name.
    case duplicateTensor(String)
    /// `name` is not in the checkpoint; `similar` lists close names, `first` the first names it has.
    case noSuchTensor(String, similar: [String], count: Int, first: [String])
    case safetensors(SafeTensorsProblem)
    case zip(ZipProblem)
    case protobuf(ProtobufProblem)
    case onnx(initializer: String, ONNXProblem)
    case torch(TorchProblem)
    case weightImport(ImportProblem)

    /// The file the error is about, if known.
    public var file: String? {
        if case .inFile(let name, _) = self { return name }
        return nil
    }

    /// The error without its file name.
    public var underlying: CheckpointError {
        if case .inFile(_, let inner) = self { return inner.underlying }
        return self
    }

    /// What is wrong and, where possible, how to fix it (without the file name).
    public var reason: String {
        switch self {
        case .inFile(_, let inner): return inner.reason
        case .file(let problem): return problem.description
        case .unknownFormat(let bytes):
            return "unknown checkpoint format (first bytes \(bytes)); expected safetensors, "
                + "a PyTorch .pth (zip or legacy), a pickle of numpy arrays or an ONNX model"
        case let .truncated(what, needed, offset, remaining):
            return "truncated: \(what) needs \(needed) bytes at offset \(offset) but only \(remaining) remain; "
                + "the file is incomplete or corrupt (download it again)"
        case let .unterminatedLine(what, offset):
            return "truncated: \(what) at offset \(offset) has no end of line"
        case let .offsetOutOfRange(offset, size):
            return "offset \(offset) lies outside the \(size) bytes of the file"
        case let .malformedPickle(offset, opcode, problem):
            return "malformed pickle at offset \(offset) (opcode 0x\(String(opcode, radix: 16, uppercase: false))): "
                + "\(problem.description); the file is corrupt or not a checkpoint pickle"
        case .refusedGlobal(let name):
            return "refuses to load the global '\(name)': a pickle can run code; only tensors and containers are allowed"
        case .refusedPickleFeature(let feature): return feature.description
        case let .tensor(name, problem): return "tensor '\(name)': \(problem.description)"
        case .duplicateTensor(let name): return "two tensors are named '\(name)'"
        case let .noSuchTensor(name, similar, count, first):
            return "has no tensor '\(name)'" + (similar.isEmpty
                ? " (\(count) tensors, first: \(first.joined(separator: ", ")))"
                : " (similar: \(similar.joined(separator: ", ")))")
        case .safetensors(let problem): return problem.description
        case .zip(let problem): return problem.description
        case .protobuf(let problem): return "protobuf: \(problem.description)"
        case let .onnx(name, problem): return problem.description(initializer: name)
        case .torch(let problem): return problem.description
        case .weightImport(let problem): return problem.description
        }
    }

    /// `file: reason`, or just the reason.
    public var description: String { file.map { "\($0): \(reason)" } ?? reason }

    /// The same error tied to `file` (kept if it already names one).
    func inFile(_ name: String) -> CheckpointError {
        file == nil ? .inFile(name, self) : self
    }
}

/// Runs `body`, naming `path`'s file in any `CheckpointError` it throws.
func withFileName<T>(_ path: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as CheckpointError {
        throw error.inFile(fileName(path))
    }
}

/// The last path component, as errors name files.
func fileName(_ path: String) -> String {
    path.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? path
}
