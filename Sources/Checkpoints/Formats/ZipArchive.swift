import Foundation

/// A minimal zip reader: the central directory and STORED entries, which is what `torch.save` writes.
///
/// The central directory is cross-checked against the rest of the file before any entry is read: the end record's
/// count and size against the entries actually there, every entry's local header (signature, name, method, sizes)
/// against its directory entry, and every entry's header and data against every other entry and the directory
/// itself (no overlaps). A directory that lies about any of these is refused, not trusted.
struct ZipArchive {
    struct Entry {
        var name: String
        var method: Int
        var compressedSize: Int
        var size: Int
        var localHeaderOffset: Int
        /// Where the entry's data starts (after its local header), filled in by validation.
        var dataOffset = 0
    }

    let data: Data
    private(set) var entries: [Entry] = []
    private var byName: [String: Int] = [:]

    init(_ data: Data) throws {
        self.data = data
        var reader = ByteReader(data)
        // The end-of-central-directory record sits in the last 22 + 65535 bytes (it may end with a comment).
        let eocd = 22
        guard data.count >= eocd else { throw CheckpointError.zip(.tooShort(bytes: data.count)) }
        var found: Int?
        var position = data.count - eocd
        let lowest = max(0, data.count - eocd - 0xFFFF)
        while position >= lowest {
            let i = data.startIndex + position
            if data[i] == 0x50, data[i + 1] == 0x4B, data[i + 2] == 0x05, data[i + 3] == 0x06 { found = position; break }
            position -= 1
        }
        guard let end = found else { throw CheckpointError.zip(.noEndRecord) }
        try reader.seek(to: end + 4)
        let disk = try reader.u16(), directoryDisk = try reader.u16()
        let countOnDisk = try reader.u16()
        var count = try reader.u16()
        var directorySize = try reader.u32()
        var directoryOffset = try reader.u32()
        if count == 0xFFFF || directoryOffset == 0xFFFF_FFFF || directorySize == 0xFFFF_FFFF {
            // Zip64: the locator just before the EOCD points at the zip64 EOCD record.
            guard end >= 20 else { throw CheckpointError.zip(.zip64("the zip64 locator is missing")) }
            try reader.seek(to: end - 20)
            guard try reader.u32() == 0x0706_4B50 else { throw CheckpointError.zip(.zip64("the zip64 locator is missing")) }
            _ = try reader.u32()
            let record = try reader.u64()
            guard record < UInt64(end) else { throw CheckpointError.zip(.zip64("the zip64 record offset is out of range")) }
            try reader.seek(to: Int(truncatingIfNeeded: record))
            guard try reader.u32() == 0x0606_4B50 else { throw CheckpointError.zip(.zip64("the zip64 end record is missing")) }
            try reader.skip(20)
            count = Int(clamping: try reader.u64())
            directorySize = Int(clamping: try reader.u64())
            directoryOffset = Int(clamping: try reader.u64())
        } else {
            guard disk == 0, directoryDisk == 0, countOnDisk == count else { throw CheckpointError.zip(.multiDisk) }
        }
        guard directoryOffset <= data.count, directorySize <= data.count - directoryOffset else {
            throw CheckpointError.zip(.directoryOutsideFile(offset: directoryOffset, size: directorySize, fileBytes: data.count))
        }
        // Every directory entry takes at least 46 bytes: a count the directory cannot hold is a lie, refused
        // before anything is allocated for it.
        guard count <= directorySize / 46 else {
            throw CheckpointError.zip(.directoryCount(claimed: count, found: "has room for at most \(directorySize / 46)"))
        }
        try reader.seek(to: directoryOffset)
        let directoryEnd = directoryOffset + directorySize
        for index in 0..<count {
            guard reader.position + 46 <= directoryEnd, try reader.u32("a zip directory entry") == 0x0201_4B50 else {
                throw CheckpointError.zip(.badDirectorySignature(entry: index))
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
            try reader.skip(commentLength, "a zip entry comment")
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
            guard byName[name] == nil else { throw CheckpointError.zip(.duplicateName(name)) }
            byName[name] = entries.count
            entries.append(Entry(name: name, method: method, compressedSize: compressedSize, size: size, localHeaderOffset: localOffset))
        }
        guard reader.position == directoryEnd else {
            // More entries after the counted ones: the count lies; anything else: the size does.
            var rest = reader
            let another = reader.position < directoryEnd && (try? rest.u32()) == 0x0201_4B50
            throw CheckpointError.zip(another
                ? .directoryCount(claimed: count, found: "holds more (\(directoryEnd - reader.position) bytes left after them)")
                : .directorySize(claimed: directorySize, actual: reader.position - directoryOffset))
        }
        try validateLocalHeaders(directoryOffset: directoryOffset)
    }

    /// Reads every entry's local header, checks it agrees with the directory, and checks that no two entries (header
    /// plus data) overlap each other or the central directory.
    private mutating func validateLocalHeaders(directoryOffset: Int) throws {
        var spans: [(start: Int, end: Int, name: String)] = []
        for index in entries.indices {
            let entry = entries[index]
            var reader = ByteReader(data)
            guard entry.localHeaderOffset <= data.count - 30 else {
                throw CheckpointError.zip(.badLocalHeader(entry: entry.name, offset: entry.localHeaderOffset))
            }
            try reader.seek(to: entry.localHeaderOffset)
            guard try reader.u32("a zip local header") == 0x0403_4B50 else {
                throw CheckpointError.zip(.badLocalHeader(entry: entry.name, offset: entry.localHeaderOffset))
            }
            try reader.skip(2)
            let flags = try reader.u16()
            let method = try reader.u16()
            try reader.skip(8)
            let compressedSize = try reader.u32(), size = try reader.u32()
            let nameLength = try reader.u16(), extraLength = try reader.u16()
            let name = String(decoding: try reader.bytes(nameLength, "the local header name of '\(entry.name)'"), as: UTF8.self)
            try reader.skip(extraLength, "the local header of '\(entry.name)'")
            func mismatch(_ field: String, _ central: Any, _ local: Any) -> CheckpointError {
                .zip(.localMismatch(entry: entry.name, field: field, central: "\(central)", local: "\(local)"))
            }
            guard name == entry.name else { throw mismatch("the name", "'\(entry.name)'", "'\(name)'") }
            guard method == entry.method else { throw mismatch("method", entry.method, method) }
            // With a data descriptor (flag bit 3) the local sizes may be zero; 0xFFFFFFFF defers to the zip64 extra.
            if flags & 0x08 == 0 {
                if compressedSize != 0xFFFF_FFFF, compressedSize != entry.compressedSize {
                    throw mismatch("compressed size", entry.compressedSize, compressedSize)
                }
                if size != 0xFFFF_FFFF, size != entry.size { throw mismatch("size", entry.size, size) }
            }
            let dataOffset = reader.position
            guard entry.compressedSize <= data.count - dataOffset else {
                throw CheckpointError.zip(.entryOutsideFile(entry: entry.name))
            }
            entries[index].dataOffset = dataOffset
            spans.append((entry.localHeaderOffset, dataOffset + entry.compressedSize, entry.name))
        }
        spans.sort { $0.start < $1.start }
        for (a, b) in zip(spans, spans.dropFirst()) where a.end > b.start {
            throw CheckpointError.zip(.overlap(entry: b.name, other: "entry '\(a.name)'"))
        }
        if let last = spans.last, last.end > directoryOffset {
            throw CheckpointError.zip(.overlap(entry: last.name, other: "the central directory"))
        }
    }

    func entry(named name: String) -> Entry? { byName[name].map { entries[$0] } }

    /// The bytes of a STORED entry, as a slice of the archive (no copy).
    func contents(of entry: Entry) throws -> Data {
        guard entry.method == 0 else { throw CheckpointError.zip(.compressed(entry: entry.name, method: entry.method)) }
        guard entry.compressedSize == entry.size else { throw CheckpointError.zip(.sizesDisagree(entry: entry.name)) }
        var reader = ByteReader(data)
        try reader.seek(to: entry.dataOffset)
        return try reader.bytes(entry.size, "zip entry '\(entry.name)'")
    }
}
