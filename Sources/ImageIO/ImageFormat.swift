/// The file formats filtervis reads and writes, told apart by their first bytes (never by the file name).
public enum ImageFormat: String, Equatable, Sendable, CaseIterable {
    case png = "PNG"
    case jpeg = "JPEG"

    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    static let jpegSignature: [UInt8] = [0xFF, 0xD8, 0xFF]

    /// The format whose signature `data` starts with, or nil.
    public static func detect(_ data: [UInt8]) -> ImageFormat? {
        if data.starts(with: pngSignature) { return .png }
        if data.starts(with: jpegSignature) { return .jpeg }
        return nil
    }

    /// The format a file name asks for when writing: .png, or .jpg / .jpeg (case-insensitive); nil otherwise.
    public static func forWriting(path: String) -> ImageFormat? {
        let lower = path.lowercased()
        if lower.hasSuffix(".png") { return .png }
        if lower.hasSuffix(".jpg") || lower.hasSuffix(".jpeg") { return .jpeg }
        return nil
    }

    /// The error for data that is neither format: shows the first bytes and names a likely culprit.
    static func unrecognised(_ data: [UInt8], file: String) -> ImageError {
        if data.isEmpty {
            return ImageError.empty(file: file, reason: "empty file (0 bytes), not an image")
        }
        // A file cut inside the signature itself is a truncated PNG/JPEG, not an unknown format.
        if data.count < pngSignature.count && pngSignature.starts(with: data) {
            return ImageError.truncated(file: file, reason: "truncated PNG data (only \(data.count) bytes)")
        }
        if data.count < jpegSignature.count && jpegSignature.starts(with: data) {
            return ImageError.truncated(file: file, reason: "truncated JPEG data (only \(data.count) bytes)")
        }
        let head = data.prefix(4).map { String(format: "%02X", $0) }.joined(separator: " ")
        let guess = likelyFormat(data).map { ": \($0)?" } ?? ""
        return ImageError.unknownFormat(file: file,
                                        reason: "not a JPEG or PNG file (starts with \(head)\(guess))")
    }

    /// A guess at what common non-PNG/JPEG data is, from its magic bytes.
    static func likelyFormat(_ d: [UInt8]) -> String? {
        func has(_ bytes: [UInt8], at offset: Int = 0) -> Bool {
            d.count >= offset + bytes.count && Array(d[offset..<(offset + bytes.count)]) == bytes
        }
        if has(Array("GIF8".utf8)) { return "a GIF" }
        if has(Array("BM".utf8)) { return "a BMP" }
        if has([0x49, 0x49, 0x2A, 0x00]) || has([0x4D, 0x4D, 0x00, 0x2A]) { return "a TIFF" }
        if has(Array("RIFF".utf8)) && has(Array("WEBP".utf8), at: 8) { return "a WebP" }
        if has(Array("ftyp".utf8), at: 4) { return "a HEIF/AVIF/MP4" }
        if has([0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50]) || has([0xFF, 0x4F, 0xFF, 0x51]) { return "a JPEG 2000" }
        if has(Array("%PDF".utf8)) { return "a PDF" }
        if has([0x50, 0x4B, 0x03, 0x04]) { return "a zip archive" }
        if has([0x1F, 0x8B]) { return "a gzip archive" }
        if has(Array("<svg".utf8)) || has(Array("<?xml".utf8)) { return "an SVG/XML text" }
        if has(Array("P".utf8)) && d.count > 1 && (0x31...0x36).contains(d[1]) { return "a PNM/PPM" }
        return nil
    }
}
