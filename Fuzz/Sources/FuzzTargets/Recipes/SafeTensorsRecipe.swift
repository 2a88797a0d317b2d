import Foundation

/// A safetensors file from a recipe: a JSON header that is always well-formed, with tensors whose dtype, shape and
/// data_offsets may lie (gaps, overlaps, out of range, byte counts that disagree, huge dims, duplicates), metadata,
/// header padding to any multiple of 8 (so header lengths like 640 = 0x280 occur), and a data buffer that may be
/// shorter or longer than the offsets say.
enum SafeTensorsRecipe {
    static let dtypes: [(String, Int)] = [("F32", 4), ("F16", 2), ("BF16", 2), ("F64", 8), ("I64", 8), ("I32", 4),
                                          ("I16", 2), ("I8", 1), ("U8", 1), ("BOOL", 1), ("F8_E4M3", 1), ("f32", 4)]

    static func write(_ r: inout Recipe) -> [UInt8] {
        var parts: [String] = []
        if r.choose(3) == 0 {
            parts.append(r.choose(8) == 0 ? "\"__metadata__\":{\"format\":1}" : "\"__metadata__\":{\"format\":\"pt\",\"k\":\"\\u00e9\"}")
        }
        var offset = 0
        for i in 0..<r.count(6) {
            let (dtype, size) = r.choose(4) == 0 ? r.pick(dtypes) : ("F32", 4)
            let shape = (0..<r.count(3)).map { _ in r.lie(1 + r.count(7)) }
            let bytes = shape.reduce(size) { $0.multipliedReportingOverflow(by: $1).partialValue }
            let begin = r.lie(offset), end = r.lie(offset &+ bytes)
            offset = max(offset, end) < 1 << 16 ? max(offset, end) : offset &+ max(0, bytes)
            let name = r.choose(8) == 0 ? "t0" : "t\(i)"
            let shapeText = shape.map(String.init).joined(separator: ",")
            let extra = r.choose(16) == 0 ? ",\"extra\":1" : ""
            let offsets = r.choose(16) == 0 ? "[\(begin)]" : "[\(begin),\(end)]"
            parts.append("\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":[\(shapeText)],\"data_offsets\":\(offsets)\(extra)}")
        }
        var header = Array(("{" + parts.joined(separator: ",") + "}").utf8)
        // Pad with spaces to a multiple of 8, plus extra blocks of 8 so the length's low byte takes many values.
        header += [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8 + 8 * r.count(96))
        let claimed = r.choose(8) == 0 ? r.lie(header.count) : header.count
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt64(truncatingIfNeeded: claimed).littleEndian) { out += $0 }
        out += header
        let buffer = max(0, min(1 << 16, r.choose(4) == 0 ? r.lie(offset) : offset))
        out += (0..<buffer).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        return out
    }
}
