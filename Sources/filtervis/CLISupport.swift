import ArgumentParser
import Foundation
import ImageIO
import Models

/// A failed input or output: the CLI prints "filtervis: error: <message>" on stderr and exits with status 1.
struct CLIError: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// Runs a command body, turning any library error (ImageError, checkpoint errors, ...) into a `CLIError`
/// that carries its message; ArgumentParser's own errors (help, usage) pass through unchanged.
/// Subcommands wrap their `run()` in it so that every failure becomes one line and exit status 1.
func runReportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as CLIError {
        throw error
    } catch let error as ValidationError {
        throw error
    } catch let error as ExitCode {
        throw error
    } catch let error as CleanExit {
        throw error
    } catch {
        throw CLIError(String(describing: error))
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
        printError("filtervis: error: \(error.message)")
        exit(1)
    } catch let error as ImageError {
        printError("filtervis: error: \(error)")
        exit(1)
    } catch {
        if root.exitCode(for: error) == .validationFailure {
            printError(root.fullMessage(for: error))
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
    @Option(help: "Model: \(ModelCatalog.all.map(\.name).joined(separator: ", ")).")
    var model = "vgg16"

    @Option(help: "Weights file to use instead of the cached import (safetensors or a torchvision .pth).")
    var weights: String?

    func validate() throws {
        // A wrong name is a usage error (exit 2), with the list of what exists.
        do { _ = try ModelCatalog.spec(named: model) } catch { throw ValidationError("\(error)") }
    }

    /// The network, from --weights or the cache (fetched first when missing).
    func loadNetwork() throws -> Network { try WeightsFetcher.loadNetwork(model: model, weights: weights) }
}
