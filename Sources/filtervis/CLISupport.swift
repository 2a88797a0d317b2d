import ArgumentParser
import Foundation
import ImageIO
import Models
import TensorCore
import Visualization

/// Runs a command body, turning any library error (ImageError, checkpoint errors, ...) into a `CLIError`
/// that carries it; ArgumentParser's own errors (help, usage) pass through unchanged.
/// Subcommands wrap their `run()` in it so that every failure becomes one line and exit status 1, or status 2
/// for the library errors that only a command-line argument can cause (`usageErrors`; off for `run`, whose
/// values come from a config file).
/// `threads`, the command's --threads, applies to the body's kernels (a `ComputeSettings` scope).
func runReportingErrors(usageErrors: Bool = true, threads: Int? = nil, _ body: () throws -> Void) throws {
    do {
        try ComputeSettings.with({ if let threads { $0.threads = threads } }, body)
    } catch let error as CLIError {
        throw error
    } catch let error as CLIUsageError {
        throw error
    } catch let error as ValidationError {
        throw error
    } catch let error as ExitCode {
        throw error
    } catch let error as CleanExit {
        throw error
    } catch {
        if usageErrors && isUsageError(error) { throw CLIUsageError.badArgument(error) }
        throw CLIError.failed(error)
    }
}

/// Library errors that, in a command whose settings are its arguments, mean a bad argument (exit 2).
func isUsageError(_ error: Error) -> Bool {
    switch error {
    case let error as ModelError:
        switch error {
        case .unknownModel, .unknownLayer, .filterOutOfRange, .badFilterList, .inputTooSmall, .inputTooLarge: return true
        default: return false
        }
    case let error as VisualizationError:
        switch error {
        case .unknownPreset, .badSetting: return true
        case .nonFiniteScores: return false
        }
    case let error as PatchSearchError:
        switch error {
        case .badSetting, .notSpatial: return true
        default: return false
        }
    default:
        return false
    }
}

/// Prints a line on stderr (progress and errors; stdout carries results).
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Parses and runs `Command` as the root, then exits: 0 on success, 1 for a `CLIError`/`ImageError` or any
/// other failure of the work itself, 2 for usage errors (ArgumentParser's own code for those is 64).
func runCommandLine<Command: ParsableCommand>(_ root: Command.Type, arguments: [String]? = nil) -> Never {
    do {
        var command = try root.parseAsRoot(arguments)
        try command.run()
        exit(0)
    } catch let error as CLIError {
        printError("filtervis: error: \(error)")
        exit(1)
    } catch let error as CLIUsageError {
        printError("filtervis: error: \(error)")
        exit(2)
    } catch let error as ImageError {
        printError("filtervis: error: \(error)")
        exit(1)
    } catch {
        if root.exitCode(for: error) == .validationFailure {
            // One line, like every other error (the usage summary is one `--help` away).
            let message = root.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
            printError("filtervis: error: \(message) (see --help)")
            exit(2)
        }
        root.exit(withError: error)
    }
}

// MARK: - Shared argument types

/// A size written "WIDTHxHEIGHT" (parsed by ImageIO's `PixelSize(argument:)`; the options name it WxH).
extension PixelSize: ExpressibleByArgument {}

extension RGB: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
    public var defaultValueDescription: String { description }
}

/// Options every command that reads images shares.
struct DecodeOptionGroup: ParsableArguments {
    @Option(help: ArgumentHelp("Refuse images with more pixels than this (decompression-bomb guard).",
                               valueName: "N"))
    var maxPixels: Int = DecodeOptions.defaultPixelLimit

    func validate() throws {
        guard maxPixels > 0 else { throw ValidationError("--max-pixels must be positive, got \(maxPixels)") }
    }

    /// Decode options with this limit and the given alpha handling.
    func options(alpha: AlphaHandling = .keep) -> DecodeOptions {
        DecodeOptions(alpha: alpha, applyOrientation: true, pixelLimit: maxPixels)
    }
}

/// The options of every command that runs a network: which model, and optionally which weights file.
struct ModelOptions: ParsableArguments {
    @Option(help: "Model: \(ModelCatalog.all.map(\.name).joined(separator: ", ")), or an ONNX file (path ending in .onnx: its graph and weights).")
    var model = "vgg16"

    @Option(help: "Weights file to use instead of the cached import (safetensors or a torchvision .pth).")
    var weights: String?

    @Option(help: ArgumentHelp("Input convention of an ONNX --model: \(Preprocessing.allCases.map(\.rawValue).joined(separator: ", ")) (default torchvision; the catalogue's models know their own).", valueName: "convention"))
    var preprocessing: Preprocessing?

    func validate() throws {
        try Self.validateModel(model)
        if preprocessing != nil && !Self.isONNX(model) {
            throw ValidationError("--preprocessing is for ONNX models only; \(model) has its own input convention")
        }
    }

    /// Whether `model` names an ONNX file rather than a catalogue model.
    static func isONNX(_ model: String) -> Bool { model.lowercased().hasSuffix(".onnx") }

    /// A wrong name is a usage error (exit 2), with the list of what exists; an ONNX path is checked when it loads.
    static func validateModel(_ model: String) throws {
        guard !isONNX(model) else { return }
        do { _ = try ModelCatalog.spec(named: model) } catch { throw ValidationError("\(error) (or give an ONNX file: --model path/to/model.onnx)") }
    }

    /// The network, from --weights or the cache (fetched first when missing), or the ONNX file.
    func loadNetwork() throws -> Network {
        try WeightsFetcher.loadNetwork(model: model, weights: weights, preprocessing: preprocessing)
    }
}

extension Preprocessing: ExpressibleByArgument {}

/// --threads of every command that computes (forward keeps its own, with its own help).
struct ThreadsOption: ParsableArguments {
    @Option(parsing: .unconditional, help: "Worker threads, 1 to 1024 (default: all cores; for run, the config's if it sets one). Results do not depend on it.")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 || threads > 1024 { throw ValidationError("--threads must be from 1 to 1024, got \(threads)") }
    }
}

/// --out of the commands whose output folder is replaced as a whole (`OutputFolder`).
struct OutputFolderOption: ParsableArguments {
    @Option(help: "Output folder, replaced as a whole when the run succeeds (a failed run leaves it as it was). Refused if it holds files this command did not write.")
    var out: String

    var url: URL { URL(fileURLWithPath: out, isDirectory: true) }
}
