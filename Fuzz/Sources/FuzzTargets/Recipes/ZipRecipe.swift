import Foundation

/// Writes a STORED zip (as torch.save does) whose central directory is valid, then lets the recipe make
/// entries lie: sizes, methods, local-header offsets pointing at another entry, names that differ between the
/// local header and the directory, zip64 fields, counts and offsets in the end record, junk before or after.
struct ZipRecipe {
    struct Entry {
        var name: String
        var data: [UInt8]
    }

    /// With `lies` false the archive is exactly what a correct writer produces.
    static func write(_ entries: [Entry], _ r: inout Recipe, lies: Bool) -> [UInt8] {
        var out: [UInt8] = []
        func u16(_ v: Int) { withUnsafeBytes(of: UInt16(truncatingIfNeeded: v).littleEndian) { out += $0 } }
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(truncatingIfNeeded: v).littleEndian) { out += $0 } }
        func u64(_ v: Int) { withUnsafeBytes(of: UInt64(truncatingIfNeeded: v).littleEndian) { out += $0 } }
        func lie(_ v: Int) -> Int { lies ? r.lie(v) : v }

        if lies, r.choose(8) == 0 { out += Array("junk before the archive".utf8) }
        var offsets: [Int] = []
        for entry in entries {
            offsets.append(out.count)
            let name = Array((lies && r.choose(8) == 0 ? entry.name + "x" : entry.name).utf8)
            u32(0x0403_4B50)
            u16(20); u16(0); u16(lies && r.choose(16) == 0 ? 8 : 0); u16(0); u16(0)
            u32(0)  // CRC-32 (the reader does not check it; torch's reader does not either)
            u32(lie(entry.data.count)); u32(lie(entry.data.count))
            u16(name.count)
            let extra = lies && r.choose(8) == 0 ? Int(r.count(16)) : 0
            u16(extra)
            out += name
            out += [UInt8](repeating: 0, count: extra)
            out += entry.data
        }
        let directoryStart = out.count
        for (i, entry) in entries.enumerated() {
            let name = Array(entry.name.utf8)
            let zip64 = lies && r.choose(6) == 0
            let size = zip64 ? 0xFFFF_FFFF : lie(entry.data.count)
            let localOffset: Int
            if lies, r.choose(6) == 0 {
                localOffset = r.bool() ? offsets[r.choose(offsets.count)] : r.lie(offsets[i])  // another entry's header
            } else {
                localOffset = zip64 && r.bool() ? 0xFFFF_FFFF : offsets[i]
            }
            u32(0x0201_4B50)
            u16(20); u16(20); u16(0)
            u16(lies && r.choose(16) == 0 ? Int(r.byte()) : 0)  // method
            u16(0); u16(0); u32(0)
            u32(size); u32(zip64 && r.bool() ? 0xFFFF_FFFF : size)
            u16(name.count)
            u16(zip64 ? 4 + 24 : 0)
            u16(0); u16(0); u16(0); u32(0)
            u32(localOffset)
            out += name
            if zip64 {
                u16(1); u16(24)
                u64(lie(entry.data.count)); u64(lie(entry.data.count)); u64(lie(offsets[i]))
            }
        }
        let directorySize = out.count - directoryStart
        let useZip64End = lies && r.choose(8) == 0
        if useZip64End {
            let record = out.count
            u32(0x0606_4B50); u64(44); u16(45); u16(45); u32(0); u32(0)
            u64(lie(entries.count)); u64(lie(entries.count)); u64(lie(directorySize)); u64(lie(directoryStart))
            u32(0x0706_4B50); u32(0); u64(lie(record)); u32(1)
        }
        u32(0x0605_4B50)
        u16(0); u16(0)
        let count = useZip64End ? 0xFFFF : lie(entries.count)
        u16(count); u16(count)
        u32(useZip64End ? 0xFFFF_FFFF : lie(directorySize)); u32(useZip64End ? 0xFFFF_FFFF : lie(directoryStart))
        let comment = lies && r.choose(8) == 0 ? r.count(40) : 0
        u16(comment)
        out += [UInt8](repeating: 0x50, count: comment)
        return out
    }
}

/// The legacy (< 1.6) torch.save layout: magic, protocol, sys_info, the object pickle, the storage keys, then per
/// key an 8-byte element count and the elements; the recipe may lie in the counts and the key list.
enum LegacyRecipe {
    static func write(_ dict: StateDictRecipe, _ r: inout Recipe) -> [UInt8] {
        var out: [UInt8] = [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E]
        var version = PickleWriter()
        version.int(r.choose(8) == 0 ? r.lie(1001) : 1001)
        version.stop()
        out += version.bytes
        var info = PickleWriter()
        info.op(0x7D)
        info.mark()
        info.string("protocol_version"); info.int(1001)
        info.string("little_endian"); info.bool(r.choose(16) != 0)
        info.op(0x75)
        info.stop()
        out += info.bytes
        out += dict.pickle.bytes
        var keys = dict.storages.map(\.key)
        if r.choose(6) == 0 { keys.append(r.bool() ? "missing" : (keys.first ?? "0")) }
        if r.choose(6) == 0, !keys.isEmpty { keys.removeLast() }
        var list = PickleWriter()
        list.op(0x5D)
        list.mark()
        keys.forEach { list.string($0) }
        list.op(0x65)
        list.stop()
        out += list.bytes
        for key in keys {
            guard let storage = dict.storages.first(where: { $0.key == key }) else { continue }
            let count = r.lie(storage.bytes.count / max(1, storage.elementSize))
            withUnsafeBytes(of: UInt64(truncatingIfNeeded: count).littleEndian) { out += $0 }
            out += storage.bytes
        }
        return out
    }
}
