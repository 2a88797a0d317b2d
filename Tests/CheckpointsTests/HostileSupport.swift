import Foundation
@testable import Checkpoints

/// Little-endian bytes of an integer, for hand-built files.
func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }

/// A STORED zip built by hand (the layout of APPNOTE 4.3: local header + data per entry, central directory, end
/// record), with the offsets of every structure so a test can make one of them lie.
struct ZipBuilder {
    var entries: [(name: String, data: [UInt8])]

    struct Layout {
        var bytes: [UInt8]
        /// Offset of each entry's local header, and of its central directory entry.
        var local: [Int]
        var central: [Int]
        var directoryOffset: Int
        var endRecord: Int

        // Field offsets inside the structures (APPNOTE 4.3.7, 4.3.12, 4.3.16).
        static let localMethod = 8, localCompressedSize = 18, localSize = 22
        static let centralMethod = 10, centralCompressedSize = 20, centralSize = 24, centralLocalOffset = 42, centralName = 46
        static let endCountOnDisk = 8, endCount = 10, endDirectorySize = 12, endDirectoryOffset = 16

        mutating func patch16(_ at: Int, _ value: Int) { bytes.replaceSubrange(at..<(at + 2), with: le(UInt16(value))) }
        mutating func patch32(_ at: Int, _ value: Int) { bytes.replaceSubrange(at..<(at + 4), with: le(UInt32(value))) }
        func read32(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24 }
        var data: Data { Data(bytes) }
    }

    func build() -> Layout {
        var out: [UInt8] = []
        var local: [Int] = []
        for (name, data) in entries {
            local.append(out.count)
            let nameBytes = Array(name.utf8)
            out += le(UInt32(0x0403_4B50)) + le(UInt16(20)) + le(UInt16(0)) + le(UInt16(0)) + le(UInt32(0)) + le(UInt32(0))
            out += le(UInt32(data.count)) + le(UInt32(data.count)) + le(UInt16(nameBytes.count)) + le(UInt16(0))
            out += nameBytes + data
        }
        let directoryOffset = out.count
        var central: [Int] = []
        for (index, (name, data)) in entries.enumerated() {
            central.append(out.count)
            let nameBytes = Array(name.utf8)
            out += le(UInt32(0x0201_4B50)) + le(UInt16(20)) + le(UInt16(20)) + le(UInt16(0)) + le(UInt16(0))
            out += le(UInt32(0)) + le(UInt32(0)) + le(UInt32(data.count)) + le(UInt32(data.count))
            out += le(UInt16(nameBytes.count)) + le(UInt16(0)) + le(UInt16(0)) + le(UInt16(0)) + le(UInt16(0)) + le(UInt32(0))
            out += le(UInt32(local[index])) + nameBytes
        }
        let endRecord = out.count
        out += le(UInt32(0x0605_4B50)) + le(UInt16(0)) + le(UInt16(0)) + le(UInt16(entries.count)) + le(UInt16(entries.count))
        out += le(UInt32(endRecord - directoryOffset)) + le(UInt32(directoryOffset)) + le(UInt16(0))
        return Layout(bytes: out, local: local, central: central, directoryOffset: directoryOffset, endRecord: endRecord)
    }
}

/// Pickles of PyTorch state dicts built opcode by opcode, as `torch.save` writes them (protocol 2).
enum TorchPickle {
    static func int(_ v: Int) -> [UInt8] { [0x4A] + le(Int32(v)) }  // BININT

    /// `{name: _rebuild_tensor_v2(storage(key, FloatStorage, numel), offset, shape, strides, False, OrderedDict())}`
    /// for each tensor, then STOP.
    static func stateDict(_ tensors: [(name: String, key: String, numel: Int, offset: Int, shape: [Int], strides: [Int])]) -> Data {
        var p: [UInt8] = [0x80, 0x02, 0x7D]                                    // PROTO 2, EMPTY_DICT
        for t in tensors {
            p += PickleBytes.binUnicode(t.name)
            p += [0x63] + Array("torch._utils\n_rebuild_tensor_v2\n".utf8)     // GLOBAL
            p += [0x28]                                                        // MARK (args)
            p += [0x28] + PickleBytes.binUnicode("storage") + [0x63] + Array("torch\nFloatStorage\n".utf8)
            p += PickleBytes.binUnicode(t.key) + PickleBytes.binUnicode("cpu") + int(t.numel) + [0x74, 0x51]  // TUPLE, BINPERSID
            p += int(t.offset)
            p += [0x28] + t.shape.flatMap(int) + [0x74]
            p += [0x28] + t.strides.flatMap(int) + [0x74]
            p += [0x89]                                                        // NEWFALSE
            p += [0x63] + Array("collections\nOrderedDict\n".utf8) + [0x29, 0x52]  // OrderedDict()
            p += [0x74, 0x52, 0x73]                                            // TUPLE, REDUCE, SETITEM
        }
        return Data(p + [0x2E])
    }

    /// A .pth zip (`archive/data.pkl`, `archive/data/<key>`) from a pickle and storages.
    static func zip(_ pickle: Data, storages: [(key: String, floats: [Float])]) -> ZipBuilder {
        var entries: [(name: String, data: [UInt8])] = [("archive/data.pkl", [UInt8](pickle))]
        for (key, floats) in storages { entries.append(("archive/data/\(key)", floats.flatMap { le($0.bitPattern) })) }
        return ZipBuilder(entries: entries)
    }
}

/// A safetensors file whose header is `json` padded with spaces to exactly `headerLength` bytes.
func safetensorsFile(_ json: String, headerLength: Int, data: [UInt8]) -> Data {
    var header = Array(json.utf8)
    header += [UInt8](repeating: 0x20, count: headerLength - header.count)
    return Data(le(UInt64(headerLength)) + header + data)
}

/// Writes `data` to a fresh temporary file and returns its path.
func temporaryFile(_ data: Data, name: String) throws -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("filtervis-\(UUID())-\(name)")
    try data.write(to: url)
    return url.path
}

/// The error `body` throws, as a CheckpointError (nil, with a recorded issue, when it throws nothing or another type).
func checkpointError(_ body: () throws -> Void) -> CheckpointError? {
    do { try body() } catch let error as CheckpointError { return error } catch { return nil }
    return nil
}
