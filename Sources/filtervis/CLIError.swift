import Foundation

/// A failed input or output: the CLI prints "filtervis: error: <description>" on stderr and exits with status 1.
enum CLIError: Error, CustomStringConvertible {
    /// A library error the work itself hit (a photo that does not decode, a checkpoint that does not parse).
    case failed(any Error)
    /// The weights of `model` are not at `path` and cannot be fetched on this machine (`reason`).
    case fetchImpossible(model: String, path: String, reason: String, binary: String)
    /// Scripts/fetch-weights.sh ended with `status` (its own reason is on stderr above) or left no weights.
    case fetchFailed(model: String, status: Int32, binary: String)
    /// `merge`: the folder has no config.json at `path`, so it is not an experiment folder.
    case notAnExperiment(config: String)
    /// `merge`: units (ids, in order) of `folder` that no shard has finished, of `total`.
    case unitsNotDone(folder: String, missing: [String], total: Int)
    /// An input a command's own checks refuse, named with what is wrong and how to fix it.
    case badInput(String)

    /// A `badInput`.
    init(_ message: String) { self = .badInput(message) }

    var description: String {
        switch self {
        case let .failed(error): return String(describing: error)
        case let .fetchImpossible(model, path, reason, binary):
            return "the \(model) weights are not in \(path), and \(reason): \(Self.byHand(binary))"
        case let .fetchFailed(model, status, binary):
            return "fetching the \(model) weights failed (Scripts/fetch-weights.sh exited with \(status); its reason is the line "
                + "above): \(Self.byHand(binary))"
        case let .notAnExperiment(config):
            return "\(config) is missing: this is not an experiment folder (run `filtervis run CONFIG --shard i/n` first)"
        case let .unitsNotDone(folder, missing, total):
            let shown = missing.prefix(8).joined(separator: ", ")
            return "\(folder): \(missing.count) of \(total) unit(s) are not done (\(shown)\(missing.count > 8 ? ", ..." : "")); "
                + "rerun the shards that own them (or `filtervis run` without --shard)"
        case let .badInput(message): return message
        }
    }

    /// What a user can run by hand when fetching the weights cannot work.
    private static func byHand(_ binary: String) -> String {
        "rerun once that is fixed, or pass --weights FILE (a torchvision .pth or an imported .safetensors; "
            + "`\(binary) weights import --help` imports one)"
    }
}

/// A bad command-line argument found once the model is loaded (an unknown layer, a size too small for it, filters
/// out of range): printed like a `CLIError`, but exit status 2.
enum CLIUsageError: Error, CustomStringConvertible {
    /// A library error that, in a command whose settings are its arguments, only a bad argument can cause.
    case badArgument(any Error)
    /// Options that do not fit together (a command's own checks), named with what to pass instead.
    case badOptions(String)

    /// A `badOptions`.
    init(_ message: String) { self = .badOptions(message) }

    var description: String {
        switch self {
        case let .badArgument(error): return String(describing: error)
        case let .badOptions(message): return message
        }
    }
}
