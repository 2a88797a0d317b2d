import Foundation

/// A restricted pickle virtual machine: it interprets the opcodes of protocols 0-5 that tensor and numpy pickles
/// use, builds every value itself, and resolves globals only through `PickleGlobal`'s allow-list.
/// Nothing in the pickle is executed. Limits on stack, memo and object counts bound what a hostile file can cost.
struct Unpickler {
    /// Turns a persistent id (BINPERSID) into a value; PyTorch formats pass one that makes `.storage` objects.
    typealias PersistentLoad = (_ pid: PickleValue, _ graph: PickleGraph) throws -> PickleObject

    static let maxStack = 1 << 20
    static let maxMemo = 1 << 20
    static let maxObjects = 1 << 22

    private var reader: ByteReader
    private let persistentLoad: PersistentLoad?
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    private var objects: [PickleObject] = []

    /// Position after the last STOP: where the next pickle of a multi-pickle file starts.
    var position: Int { reader.position }

    init(_ data: Data, at offset: Int = 0, persistentLoad: PersistentLoad? = nil) throws {
        reader = ByteReader(data)
        try reader.seek(to: offset)
        self.persistentLoad = persistentLoad
    }

    /// Unpickles one value from `data`.
    static func load(_ data: Data, persistentLoad: PersistentLoad? = nil) throws -> PickleGraph {
        var unpickler = try Unpickler(data, persistentLoad: persistentLoad)
        return try unpickler.load()
    }

    /// Runs opcodes until STOP and returns what was built; can be called again for the next pickle in the stream.
    mutating func load() throws -> PickleGraph {
        stack.removeAll()
        marks.removeAll()
        memo.removeAll()
        objects.removeAll()
        while true {
            let offset = reader.position
            guard !reader.isAtEnd else {
                throw CheckpointError.malformedPickle(offset: offset, opcode: 0, .truncated(what: "the next opcode (no STOP)",
                                                                                           needed: 1, remaining: 0))
            }
            let opcode = try reader.u8("a pickle opcode")
            do {
                if try step(opcode) { break }
            } catch let problem as PickleProblem {
                throw CheckpointError.malformedPickle(offset: offset, opcode: opcode, problem)
            } catch CheckpointError.truncated(let what, let needed, _, let remaining) {
                throw CheckpointError.malformedPickle(offset: offset, opcode: opcode,
                                                      .truncated(what: what, needed: needed, remaining: remaining))
            } catch CheckpointError.unterminatedLine(let what, _) {
                throw CheckpointError.malformedPickle(offset: offset, opcode: opcode, .unterminatedLine(what: what))
            }
            // Everything else (refused globals, storage structure) already says what is wrong.
        }
        guard stack.count == 1, let root = stack.popLast() else {
            throw CheckpointError.malformedPickle(offset: reader.position - 1, opcode: 0x2E, .stopWithStack(values: stack.count))
        }
        return PickleGraph(root: root, objects: objects)
    }

    // MARK: Opcodes

    /// Executes one opcode; true at STOP.
    private mutating func step(_ opcode: UInt8) throws -> Bool {
        switch opcode {
        case 0x80:                                                                   // PROTO
            let proto = Int(try reader.u8("the protocol number"))
            guard proto <= 5 else { throw PickleProblem.unsupportedProtocol(proto) }
        case 0x95: _ = try reader.u64("a frame length")                              // FRAME (frames are just hints)
        case 0x2E: return true                                                       // STOP
        // Constants and numbers
        case 0x4E: try push(.none)                                                   // NONE
        case 0x88: try push(.bool(true))                                             // NEWTRUE
        case 0x89: try push(.bool(false))                                            // NEWFALSE
        case 0x4A: try push(.int(try reader.i32()))                                  // BININT
        case 0x4B: try push(.int(Int(try reader.u8())))                              // BININT1
        case 0x4D: try push(.int(try reader.u16()))                                  // BININT2
        case 0x8A: try push(try long(Int(try reader.u8("a LONG1 length"))))          // LONG1
        case 0x8B: try push(try long(try reader.i32("a LONG4 length")))               // LONG4
        case 0x47: try push(.float(Double(bitPattern: UInt64(bigEndian: try rawU64()))))  // BINFLOAT (big-endian)
        case 0x49: try push(try textInt(try reader.line()))                           // INT (protocol 0)
        case 0x4C: try push(try textInt(try reader.line()))                           // LONG (protocol 0)
        // Strings and bytes
        case 0x58: try push(.string(try utf8(try reader.bytes(try reader.u32()))))    // BINUNICODE
        case 0x8C: try push(.string(try utf8(try reader.bytes(Int(try reader.u8())))))  // SHORT_BINUNICODE
        case 0x8D: try push(.string(try utf8(try reader.bytes(try length64()))))      // BINUNICODE8
        case 0x42: try push(.bytes(try reader.bytes(try reader.u32())))               // BINBYTES
        case 0x43: try push(.bytes(try reader.bytes(Int(try reader.u8()))))           // SHORT_BINBYTES
        case 0x8E: try push(.bytes(try reader.bytes(try length64())))                 // BINBYTES8
        case 0x96: try push(.bytes(try reader.bytes(try length64())))                 // BYTEARRAY8 (protocol 5)
        case 0x97, 0x98:
            throw CheckpointError.refusedPickleFeature(.outOfBandBuffers)
        case 0x54:                                                                   // BINSTRING (Python 2 str)
            let n = try reader.i32("a BINSTRING length")
            guard n >= 0 else { throw PickleProblem.negativeLength }
            try push(.string(latin1(try reader.bytes(n))))
        case 0x55: try push(.string(latin1(try reader.bytes(Int(try reader.u8())))))  // SHORT_BINSTRING
        // Containers
        case 0x7D: try push(try new(.dict(PickleDict())))                            // EMPTY_DICT
        case 0x5D: try push(try new(.list([])))                                      // EMPTY_LIST
        case 0x29: try push(try new(.tuple([])))                                     // EMPTY_TUPLE
        case 0x8F: try push(try new(.list([])))                                      // EMPTY_SET (kept as a list)
        case 0x28:                                                                   // MARK
            guard marks.count < Self.maxStack else { throw PickleProblem.limitExceeded(what: "MARK nesting", limit: Self.maxStack) }
            marks.append(stack.count)
        case 0x74: try push(try new(.tuple(try popMark())))                          // TUPLE
        case 0x85, 0x86, 0x87:                                                       // TUPLE1-3
            let items = try pop(Int(opcode - 0x84))
            try push(try new(.tuple(items)))
        case 0x91: try push(try new(.list(try popMark())))                           // FROZENSET
        case 0x61:                                                                   // APPEND
            let item = try pop()
            try append([item], to: try top())
        case 0x65, 0x90:                                                             // APPENDS, ADDITEMS
            let items = try popMark()
            try append(items, to: try top())
        case 0x73:                                                                   // SETITEM
            let value = try pop(), key = try pop()
            try setItems([(key, value)], in: try top())
        case 0x75:                                                                   // SETITEMS
            let flat = try popMark()
            guard flat.count % 2 == 0 else { throw PickleProblem.oddSetItems }
            try setItems(stride(from: 0, to: flat.count, by: 2).map { (flat[$0], flat[$0 + 1]) }, in: try top())
        // Stack and memo
        case 0x30: _ = try pop()                                                     // POP
        case 0x31: _ = try popMark()                                                 // POP_MARK
        case 0x32: try push(try top())                                               // DUP
        case 0x71: try put(Int(try reader.u8()))                                     // BINPUT
        case 0x72: try put(try reader.u32())                                         // LONG_BINPUT
        case 0x94: try put(memo.count)                                               // MEMOIZE
        case 0x70: try put(try textIndex(try reader.line()))                         // PUT
        case 0x68: try push(try get(Int(try reader.u8())))                           // BINGET
        case 0x6A: try push(try get(try reader.u32()))                               // LONG_BINGET
        case 0x67: try push(try get(try textIndex(try reader.line())))               // GET
        // Globals, calls and state
        case 0x63:                                                                   // GLOBAL
            let module = latin1(try reader.line()), name = latin1(try reader.line())
            try push(.global(try PickleGlobal.resolve(module: module, name: name)))
        case 0x93:                                                                   // STACK_GLOBAL
            let name = try pop(), module = try pop()
            guard case .string(let m) = module, case .string(let n) = name else {
                throw PickleProblem.stackGlobalNeedsStrings(module: module.kind, name: name.kind)
            }
            try push(.global(try PickleGlobal.resolve(module: m, name: n)))
        case 0x69:                                                                   // INST: GLOBAL + call with MARK args
            let module = latin1(try reader.line()), name = latin1(try reader.line())
            let global = try PickleGlobal.resolve(module: module, name: name)
            try push(try call(global, try popMark()))
        case 0x6F:                                                                   // OBJ: MARK class args...
            let items = try popMark()
            guard case .global(let global)? = items.first else { throw PickleProblem.objWithoutClass }
            try push(try call(global, Array(items.dropFirst())))
        case 0x52, 0x81:                                                             // REDUCE, NEWOBJ
            let args = try pop(), callable = try pop()
            guard case .global(let global) = callable else {
                throw PickleProblem.cannotCall(describe(callable))
            }
            guard let arguments = graph.sequence(args) else { throw PickleProblem.argumentsNotATuple(describe(args)) }
            try push(try call(global, arguments))
        case 0x92:                                                                   // NEWOBJ_EX (cls, args, kwargs)
            _ = try pop()
            let args = try pop(), callable = try pop()
            guard case .global(let global) = callable, let arguments = graph.sequence(args) else {
                throw PickleProblem.cannotCall(describe(callable))
            }
            try push(try call(global, arguments))
        case 0x62:                                                                   // BUILD
            let state = try pop()
            try build(try top(), state: state)
        case 0x51:                                                                   // BINPERSID
            try push(try persistent(try pop()))
        case 0x50:                                                                   // PERSID (text id)
            try push(try persistent(.string(latin1(try reader.line()))))
        case 0x82, 0x83, 0x84:
            throw CheckpointError.refusedPickleFeature(.extensionCodes)
        default:
            throw PickleProblem.unsupportedOpcode
        }
        return false
    }

    private var graph: PickleGraph { PickleGraph(root: .none, objects: objects) }

    // MARK: Stack helpers

    private mutating func push(_ value: PickleValue) throws {
        guard stack.count < Self.maxStack else { throw PickleProblem.limitExceeded(what: "the stack", limit: Self.maxStack) }
        stack.append(value)
    }

    private mutating func pop() throws -> PickleValue {
        guard stack.count > (marks.last ?? 0), let value = stack.popLast() else {
            throw PickleProblem.emptyStack
        }
        return value
    }

    private mutating func pop(_ n: Int) throws -> [PickleValue] {
        guard stack.count - (marks.last ?? 0) >= n else { throw PickleProblem.needsValues(n) }
        defer { stack.removeLast(n) }
        return Array(stack.suffix(n))
    }

    private func top() throws -> PickleValue {
        guard stack.count > (marks.last ?? 0), let value = stack.last else {
            throw PickleProblem.needsValues(1)
        }
        return value
    }

    private mutating func popMark() throws -> [PickleValue] {
        guard let mark = marks.popLast() else { throw PickleProblem.noMark }
        defer { stack.removeSubrange(mark...) }
        return Array(stack[mark...])
    }

    private mutating func new(_ object: PickleObject) throws -> PickleValue {
        guard objects.count < Self.maxObjects else { throw PickleProblem.limitExceeded(what: "the object count", limit: Self.maxObjects) }
        objects.append(object)
        return .object(objects.count - 1)
    }

    private mutating func put(_ index: Int) throws {
        guard memo.count < Self.maxMemo || memo[index] != nil else { throw PickleProblem.limitExceeded(what: "the memo", limit: Self.maxMemo) }
        memo[index] = try top()
    }

    private func get(_ index: Int) throws -> PickleValue {
        guard let value = memo[index] else { throw PickleProblem.memoMissing(index) }
        return value
    }

    private mutating func append(_ items: [PickleValue], to target: PickleValue) throws {
        guard case .object(let index) = target, case .list(var list) = objects[index] else {
            throw PickleProblem.appendTo(describe(target))
        }
        objects[index] = .list([])  // release the old copy so the append below does not copy the array
        list.append(contentsOf: items)
        objects[index] = .list(list)
    }

    private mutating func setItems(_ pairs: [(PickleValue, PickleValue)], in target: PickleValue) throws {
        guard case .object(let index) = target, case .dict(var dict) = objects[index] else {
            throw PickleProblem.setItemOn(describe(target))
        }
        objects[index] = .list([])
        for (key, value) in pairs { dict.set(key, value) }
        objects[index] = .dict(dict)
    }

    // MARK: Scalars

    private mutating func rawU64() throws -> UInt64 {
        let bytes = try reader.bytes(8, "a float")
        return bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
    }

    private mutating func length64() throws -> Int {
        let n = try reader.u64("a length")
        guard n <= UInt64(reader.remaining) else {
            throw PickleProblem.truncated(what: "a \(n)-byte value", needed: Int(clamping: n), remaining: reader.remaining)
        }
        return Int(truncatingIfNeeded: n)
    }

    /// LONG1/LONG4: little-endian two's complement of `n` bytes.
    private mutating func long(_ n: Int) throws -> PickleValue {
        guard n >= 0 else { throw PickleProblem.negativeLength }
        let bytes = try reader.bytes(n, "a long integer")
        if n == 0 { return .int(0) }
        guard n <= 8 else { return .bigInt(bytes) }
        var value: UInt64 = 0
        for (i, byte) in bytes.enumerated() { value |= UInt64(byte) << (8 * UInt64(i)) }
        if n < 8, let top = bytes.last, top & 0x80 != 0 { value |= ~UInt64(0) << (8 * UInt64(n)) }  // sign-extend
        return .int(Int(Int64(bitPattern: value)))
    }

    private func textInt(_ line: Data) throws -> PickleValue {
        var text = latin1(line)
        if text == "00" { return .bool(false) }
        if text == "01" { return .bool(true) }
        if text.hasSuffix("L") { text.removeLast() }
        guard let value = Int(text) else { throw PickleProblem.notAnInteger(text) }
        return .int(value)
    }

    private func textIndex(_ line: Data) throws -> Int {
        guard let value = Int(latin1(line)), value >= 0 else { throw PickleProblem.badMemoIndex }
        return value
    }

    private func utf8(_ bytes: Data) throws -> String {
        guard let string = String(data: bytes, encoding: .utf8) else { throw PickleProblem.notUTF8 }
        return string
    }

    // MARK: Allow-listed constructors

    /// Builds what `global(*args)` would, for the allow-listed globals only.
    private mutating func call(_ global: PickleGlobal, _ args: [PickleValue]) throws -> PickleValue {
        let name = global.qualifiedName
        switch global {
        case .orderedDict:
            var dict = PickleDict()
            if let pairs = args.first.flatMap({ graph.sequence($0) }) {
                for pair in pairs {
                    guard let kv = graph.sequence(pair), kv.count == 2 else {
                        throw PickleProblem.badArguments(global: name, expected: "(key, value) pairs", got: describe(pair))
                    }
                    dict.set(kv[0], kv[1])
                }
            }
            return try new(.dict(dict))
        case .set:
            return try new(.list(args.first.flatMap { graph.sequence($0) } ?? []))
        case .tuple:
            return try new(.tuple(args.first.flatMap { graph.sequence($0) } ?? []))
        case .rebuildTensor:
            // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
            guard args.count >= 4, case .storage(let storage)? = graph.object(args[0]), case .int(let offset) = args[1],
                  let shape = ints(args[2]), let strides = ints(args[3]) else {
                throw PickleProblem.badArguments(global: name, expected: "(storage, offset, size, stride, ...)",
                                                 got: "(" + args.prefix(8).map(describe).joined(separator: ", ") + ")")
            }
            return try new(.tensor(TensorRef(storage: storage, offset: offset, shape: shape, strides: strides)))
        case .rebuildParameter:
            guard let data = args.first, case .tensor? = graph.object(data) else {
                throw PickleProblem.badArguments(global: name, expected: "a tensor", got: args.first.map(describe) ?? "nothing")
            }
            return data
        case .storageType:
            throw PickleProblem.onlyInsidePersistentId(global: name)
        case .numpyReconstruct:
            guard case .global(.numpyNDArray)? = args.first else {
                throw PickleProblem.badArguments(global: name, expected: "numpy.ndarray", got: args.first.map(describe) ?? "nothing")
            }
            return try new(.ndarray(NumpyArray()))
        case .numpyNDArray:
            throw PickleProblem.onlyInsidePersistentId(global: name)
        case .numpyDType:
            guard case .string(let code)? = args.first else {
                throw PickleProblem.badArguments(global: name, expected: "a type code string", got: args.first.map(describe) ?? "nothing")
            }
            return try new(.numpyDType(NumpyDType(code: code)))
        case .numpyScalar:
            // scalar(dtype, bytes): a 0-d array.
            guard args.count == 2, case .numpyDType(let dtype)? = graph.object(args[0]), case .bytes(let bytes) = args[1] else {
                throw PickleProblem.badArguments(global: name, expected: "(dtype, bytes)", got: "\(args.count) arguments")
            }
            return try new(.ndarray(NumpyArray(shape: [], dtype: dtype, isFortranOrder: false, data: bytes)))
        case .numpyFromBuffer:
            // _frombuffer(buffer, dtype, shape, order)
            guard args.count == 4, case .bytes(let bytes) = args[0], case .numpyDType(let dtype)? = graph.object(args[1]),
                  let shape = ints(args[2]), case .string(let order) = args[3] else {
                throw PickleProblem.badArguments(global: name, expected: "(buffer, dtype, shape, order)", got: "\(args.count) arguments")
            }
            return try new(.ndarray(NumpyArray(shape: shape, dtype: dtype, isFortranOrder: order == "F", data: bytes)))
        case .codecsEncode:
            // Protocol-2 pickles spell bytes as _codecs.encode(text, 'latin1').
            guard args.count == 2, case .string(let text) = args[0], case .string(let encoding) = args[1],
                  ["latin1", "latin-1", "iso-8859-1"].contains(encoding.lowercased()) else {
                throw PickleProblem.badArguments(global: name, expected: "(str, 'latin1')", got: "\(args.count) arguments")
            }
            guard let bytes = text.data(using: .isoLatin1) else { throw PickleProblem.notLatin1 }
            return .bytes(bytes)
        }
    }

    /// BUILD: sets an object's state (numpy arrays and dtypes); dict attributes and tensor state are ignored.
    private mutating func build(_ target: PickleValue, state: PickleValue) throws {
        guard case .object(let index) = target else { throw PickleProblem.buildOn(target.kind) }
        switch objects[index] {
        case .ndarray(var array):
            // (version, shape, dtype, is_fortran, data) or the 4-item form without version.
            guard var items = graph.sequence(state), items.count == 5 || items.count == 4 else {
                throw PickleProblem.numpyArrayState("not a 4- or 5-tuple")
            }
            if items.count == 5 { items.removeFirst() }
            guard let shape = ints(items[0]), case .numpyDType(let dtype)? = graph.object(items[1]) else {
                throw PickleProblem.numpyArrayState("expected (shape, dtype, ...)")
            }
            guard case .bool(let fortran) = items[2] else { throw PickleProblem.numpyArrayState("the fortran flag is not a bool") }
            guard case .bytes(let bytes) = items[3] else {
                throw PickleProblem.numpyArrayState("data is a \(items[3].kind), not bytes (object arrays are not supported)")
            }
            array.shape = shape
            array.dtype = dtype
            array.isFortranOrder = fortran
            array.data = bytes
            objects[index] = .ndarray(array)
        case .numpyDType(var dtype):
            // (version, byteorder, subarray, names, fields, elsize, alignment, flags)
            if let items = graph.sequence(state), items.count >= 2, case .string(let order) = items[1], let first = order.first {
                dtype.byteOrder = first
            }
            objects[index] = .numpyDType(dtype)
        case .dict, .tensor:
            break  // OrderedDict._metadata and tensor/parameter state carry nothing a reader needs
        default:
            throw PickleProblem.buildOn(objects[index].kind)
        }
    }

    private mutating func persistent(_ pid: PickleValue) throws -> PickleValue {
        guard let persistentLoad else {
            throw PickleProblem.persistentIdWithoutStorages
        }
        return try new(try persistentLoad(pid, graph))
    }

    private func ints(_ value: PickleValue) -> [Int]? {
        guard let items = graph.sequence(value) else { return nil }
        var result: [Int] = []
        for item in items {
            guard case .int(let i) = item else { return nil }
            result.append(i)
        }
        return result
    }

    private func describe(_ value: PickleValue) -> String { graph.object(value)?.kind ?? value.kind }
}

/// Bytes as Latin-1 text (each byte one scalar): how the text opcodes and Python 2 strings are encoded.
func latin1(_ bytes: Data) -> String {
    String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
}
