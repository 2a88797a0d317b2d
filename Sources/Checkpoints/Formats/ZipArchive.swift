import Foundation

/// A minimal zip reader: the central directory and STORED entries, which is what `torch.save` writes.
struct ZipArchive {
    struct Entry {
        var name: String
        var method: Int
        var compressedSize: Int
        var size: Int
        var localHeaderOffset: Int
    }

    let data: Data
    private(set) var entries: [Entry] = []
    private var byName: [String: Int] = [:]

    init(_ data: Data) throws {
        self.data = data
        var reader = ByteReader(data)
        // The end-of-central-directory record sits in the last 22 + 65535 bytes (it may end with a comment).
        let eocd = 22
        guard data.count >= eocd else { throw CheckpointError("truncated: too short for a zip file (\(data.count) bytes)") }
        var found: Int?
        var position = data.count - eocd
        let lowest = max(0, data.count - eocd - 0xFFFF)
        while position >= lowest {
            let i = data.startIndex + position
            if data[i] == 0x50, data[i + 1] == 0x4B, data[i + 2] == 0x05, data[i + 3] == 0x06 { found = position; break }
            position -= 1
        }
        guard let end = found else {
            throw CheckpointError("zip end-of-central-directory record not found: the file is truncated or not a zip")
        }
        try reader.seek(to: end + 10)
        var count = try reader.u16()
        var directorySize = try reader.u32()
        var directoryOffset = try reader.u32()
        if count == 0xFFFF || directoryOffset == 0xFFFF_FFFF || directorySize == 0xFFFF_FFFF {
            // Zip64: the locator just before the EOCD points at the zip64 EOCD record.
            try reader.seek(to: end - 20)
            guard try reader.u32() == 0x0706_4B50 else { throw CheckpointError("zip64 locator missing") }
            _ = try reader.u32()
            let record = try reader.u64()
            guard record < UInt64(data.count) else { throw CheckpointError("zip64 record offset out of range") }
            try reader.seek(to: Int(record))
            guard try reader.u32() == 0x0606_4B50 else { throw CheckpointError("zip64 end record missing") }
            try reader.skip(20)
            count = Int(clamping: try reader.u64())
            directorySize = Int(clamping: try reader.u64())
            directoryOffset = Int(clamping: try reader.u64())
        }
        guard directoryOffset <= data.count, directorySize <= data.count - directoryOffset else {
            throw CheckpointError("truncated: zip central directory [\(directoryOffset), +\(directorySize)] lies outside the "
                + "\(data.count)-byte file")
        }
        try reader.seek(to: directoryOffset)
        for _ in 0..<count {
            guard try reader.u32("a zip directory entry") == 0x0201_4B50 else {
                throw CheckpointError("corrupt zip: bad central directory entry signature")
            }
            try reader.skip(6)
            let method = try reader.u16()
            try reader.skip(8)
            var compressedSize = try reader.u32()
            var size = try reader.u32()
            let nameLength = try reader.u16(), extraLength = try reader.u16(), commentLength = try reader.u16()
            try reader.skip(8)
            var localOffset = try reader.u32()
            let name = String(decoding: try reader.bytes(nameLength, "a zip entry name"), as: UTF8.self)
            var extra = ByteReader(try reader.bytes(extraLength, "a zip extra field"))
            try reader.skip(commentLength)
            // Zip64 extended information (id 1) replaces the 0xFFFFFFFF fields, in order.
            while extra.remaining >= 4 {
                let id = try extra.u16(), length = try extra.u16()
                var field = ByteReader(try extra.bytes(length))
                if id == 1 {
                    if size == 0xFFFF_FFFF { size = Int(clamping: try field.u64()) }
                    if compressedSize == 0xFFFF_FFFF { compressedSize = Int(clamping: try field.u64()) }
                    if localOffset == 0xFFFF_FFFF { localOffset = Int(clamping: try field.u64()) }
                }
            }
            byName[name] = entries.count
            entries.append(Entry(name: name, method: method, compressedSize: compressedSize, size: size, localHeaderOffset: localOffset))
        }
    }

    func entry(named name: String) -> Entry? { byName[name].map { entries[$0] } }

    /// The bytes of a STORED entry, as a slice of the archive (no copy).
    func contents(of entry: Entry) throws -> Data {
        guard entry.method == 0 else {
            throw CheckpointError("zip entry '\(entry.name)' is compressed (method \(entry.method)); only stored entries are "
                + "supported, as torch.save writes them. Re-save with torch.save, or unzip and re-zip with 'zip -0'")
        }
        guard entry.compressedSize == entry.size else { throw CheckpointError("zip entry '\(entry.name)': stored sizes disagree") }
        var reader = ByteReader(data)
        try reader.seek(to: entry.localHeaderOffset)
        guard try reader.u32("a zip local header") == 0x0403_4B50 else {
            throw CheckpointError("corrupt zip: bad local header for '\(entry.name)'")
        }
        try reader.skip(22)
        let nameLength = try reader.u16(), extraLength = try reader.u16()
        // The local header must be this entry's own: a directory pointing at another entry's bytes is a lie.
        let localName = try reader.bytes(nameLength, "the local header of '\(entry.name)'")
        guard localName.elementsEqual(entry.name.utf8) else {
            throw CheckpointError("corrupt zip: the directory entry '\(entry.name)' points at the local header of "
                + "'\(String(decoding: localName, as: UTF8.self))'")
        }
        try reader.skip(extraLength, "the local header of '\(entry.name)'")
        return try reader.bytes(entry.size, "zip entry '\(entry.name)'")
    }
}
