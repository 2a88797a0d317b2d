/// Why the restricted unpickler cannot go on; `CheckpointError.malformedPickle` adds the offset and opcode.
public enum PickleProblem: Error, Equatable, Sendable {
    case unsupportedProtocol(Int)
    case unsupportedOpcode
    /// The opcode's argument runs past the end of the data.
    case truncated(what: String, needed: Int, remaining: Int)
    case unterminatedLine(what: String)
    case stopWithStack(values: Int)
    case emptyStack
    case needsValues(Int)
    case noMark
    case memoMissing(Int)
    case badMemoIndex
    case notAnInteger(String)
    case negativeLength
    case notUTF8
    case notLatin1
    case stackGlobalNeedsStrings(module: String, name: String)
    case objWithoutClass
    case cannotCall(String)
    case argumentsNotATuple(String)
    case appendTo(String)
    case setItemOn(String)
    case oddSetItems
    case buildOn(String)
    /// An allow-listed global called with arguments it does not take.
    case badArguments(global: String, expected: String, got: String)
    case onlyInsidePersistentId(global: String)
    case numpyArrayState(String)
    case persistentIdWithoutStorages
    case limitExceeded(what: String, limit: Int)

    public var description: String {
        switch self {
        case .unsupportedProtocol(let p): return "pickle protocol \(p) is not supported (0-5 are)"
        case .unsupportedOpcode: return "an opcode tensor checkpoint pickles never use"
        case let .truncated(what, needed, remaining):
            return "truncated: \(what) needs \(needed) bytes but only \(remaining) remain"
        case .unterminatedLine(let what): return "truncated: \(what) has no end of line"
        case .stopWithStack(let n): return "STOP with \(n) values on the stack instead of 1"
        case .emptyStack: return "pops from an empty stack"
        case .needsValues(let n): return "needs \(n) values on the stack"
        case .noMark: return "no MARK to pop to"
        case .memoMissing(let index): return "memo entry \(index) was never stored"
        case .badMemoIndex: return "bad memo index"
        case .notAnInteger(let text): return "'\(text.prefix(40))' is not an integer"
        case .negativeLength: return "negative length"
        case .notUTF8: return "string is not UTF-8"
        case .notLatin1: return "text is not latin-1"
        case let .stackGlobalNeedsStrings(module, name): return "STACK_GLOBAL needs two strings, got \(module) and \(name)"
        case .objWithoutClass: return "OBJ without a class"
        case .cannotCall(let kind): return "cannot call a \(kind)"
        case .argumentsNotATuple(let kind): return "call arguments are a \(kind)"
        case .appendTo(let kind): return "APPEND to a \(kind)"
        case .setItemOn(let kind): return "SETITEM on a \(kind)"
        case .oddSetItems: return "SETITEMS with an odd number of values"
        case .buildOn(let kind): return "BUILD on a \(kind)"
        case let .badArguments(global, expected, got): return "\(global): expected \(expected), got \(got)"
        case .onlyInsidePersistentId(let global): return "\(global) is only valid inside a persistent id or as an argument, not called"
        case .numpyArrayState(let what): return "numpy array state: \(what)"
        case .persistentIdWithoutStorages:
            return "pickle refers to external storage (persistent id) but is not part of a PyTorch checkpoint"
        case let .limitExceeded(what, limit): return "\(what) exceeds \(limit)"
        }
    }
}

/// Pickle features refused outright, whatever they would build.
public enum PickleFeature: Equatable, Sendable {
    /// EXT1/2/4 name globals through copyreg's registry, around the allow-list.
    case extensionCodes
    /// Protocol 5 NEXT_BUFFER / READONLY_BUFFER need buffers that a file cannot supply.
    case outOfBandBuffers

    public var description: String {
        switch self {
        case .extensionCodes: return "refuses pickle extension codes (EXT1/2/4): they name globals through the copyreg registry"
        case .outOfBandBuffers: return "refuses pickles with out-of-band buffers (protocol 5 NEXT_BUFFER), which a file cannot supply"
        }
    }
}
