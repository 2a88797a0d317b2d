import Foundation

/// What one input did to a parser: it returned a value, or refused the input with one of the toolkit's typed errors.
/// Anything else (a foreign error, a result that breaks the parser's promises, a crash) is a `ContractViolation`.
public enum FuzzOutcome: Equatable, Sendable {
    case accepted
    case refused(String)
}

/// A parser broke its contract on an input; the fuzz entry point aborts on it so libFuzzer records the input.
public struct ContractViolation: Error, CustomStringConvertible {
    public let target: String
    public let reason: String
    public var description: String { "\(target): contract violated: \(reason)" }
}

/// One fuzz target: a parser's public entry point and the promises it must keep on any bytes.
public struct FuzzTarget: Sendable {
    /// The name used on the command line, in Fuzz/regressions/<name>/ and in the corpus folder.
    public let name: String
    /// The modules whose error types count as "typed errors" for this parser (e.g. "Checkpoints").
    public let errorModules: [String]
    /// Feeds one input to the parser; throws the parser's own error, or `ContractViolation` for a broken promise.
    let body: @Sendable (_ input: [UInt8], _ violation: (String) -> ContractViolation) throws -> Void

    /// Runs one input: `.accepted` or `.refused(message)`, or throws `ContractViolation`.
    public func run(_ input: [UInt8]) throws -> FuzzOutcome {
        let violation = { (reason: String) in ContractViolation(target: name, reason: reason) }
        do {
            try body(input, violation)
            return .accepted
        } catch let error as ContractViolation {
            throw error
        } catch {
            // A typed error is one of the toolkit's own error types, whatever its case: the contract is that the
            // parser names what is wrong in its own words, never that it lets a Foundation or runtime error through.
            let type = String(reflecting: Swift.type(of: error))
            guard errorModules.contains(where: { type.hasPrefix($0 + ".") }) else {
                throw violation("threw \(type), not a typed error of \(errorModules.joined(separator: "/")): \(error)")
            }
            // (Messages may quote the input's own bytes, newlines included; what they must not be is empty.)
            let message = "\(error)"
            guard !message.isEmpty else { throw violation("\(type) with an empty message") }
            return .refused(message)
        }
    }
}

/// Every fuzz target, by name.
public enum FuzzTargets {
    public static let all: [FuzzTarget] = CheckpointTargets.all + ONNXTargets.all + RecipeTargets.all + [
        ImageTarget.target, ConfigTarget.target, ArgumentTarget.target,
    ]

    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}
