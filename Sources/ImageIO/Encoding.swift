import CImageCodecs
import FileOutput
import Foundation

extension Image {
    /// PNG bytes: 8-bit gray, RGB or RGBA, not interlaced, zlib level `compressionLevel` (0...9).
    public func pngData(compressionLevel: Int = 6) throws -> [UInt8] {
        try encode(label: "PNG") { src, out, len, err, errLen in
            codec_png_encode(src, UInt32(width), UInt32(height), Int32(channels), Int32(compressionLevel),
                             out, len, err, errLen)
        }
    }

    /// JPEG bytes at `quality` 1...100 (baseline, 4:2:0, libjpeg defaults). Gray stays gray; RGBA is refused:
    /// composite it first (`compositingAlpha(over:)`), since JPEG has no alpha.
    public func jpegData(quality: Int = 90) throws -> [UInt8] {
        guard (1...100).contains(quality) else {
            throw ImageError.invalidArgument(file: "JPEG", reason: "quality \(quality) is outside 1...100")
        }
        guard channels != 4 else {
            throw ImageError.invalidArgument(file: "JPEG",
                                             reason: "JPEG has no alpha channel: composite the RGBA image over a background first")
        }
        return try encode(label: "JPEG") { src, out, len, err, errLen in
            codec_jpeg_encode(src, UInt32(width), UInt32(height), Int32(channels), Int32(quality),
                              out, len, err, errLen)
        }
    }

    /// Encodes to `format` and writes atomically (temporary file in the same folder, then rename): on failure
    /// nothing is left at `url` (an existing file stays untouched).
    public func write(to url: URL, format: ImageFormat, quality: Int = 90) throws {
        let name = url.lastPathComponent
        let bytes: [UInt8]
        do {
            bytes = format == .png ? try pngData() : try jpegData(quality: quality)
        } catch let error as ImageError {
            throw error.about(name)
        }
        do { try AtomicFile.write(bytes, to: url) } catch let error as FileWriteError {
            throw ImageError.writeFailed(file: name, reason: error.reason)
        }
    }

    /// Writes as the file name's extension says (.png, .jpg, .jpeg); other extensions are an error.
    public func write(to url: URL, quality: Int = 90) throws {
        guard let format = ImageFormat.forWriting(path: url.path) else {
            throw ImageError.invalidArgument(file: url.lastPathComponent,
                                             reason: "cannot tell the output format from the name: use .png, .jpg or .jpeg")
        }
        try write(to: url, format: format, quality: quality)
    }

    private func encode(label: String, _ call: (UnsafePointer<UInt8>?, UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>,
                                                 UnsafeMutablePointer<Int>, UnsafeMutablePointer<CChar>, Int) -> Int32) throws -> [UInt8] {
        guard width > 0 && height > 0 else {
            throw ImageError.invalidArgument(file: label, reason: "cannot encode an empty \(width) x \(height) image")
        }
        var out: UnsafeMutablePointer<UInt8>? = nil
        var length = 0
        var err = [CChar](repeating: 0, count: 512)
        let status = pixels.withUnsafeBufferPointer { src in
            err.withUnsafeMutableBufferPointer { e in call(src.baseAddress, &out, &length, e.baseAddress!, e.count) }
        }
        defer { codec_free(out) }
        guard status == 0, let out else {
            throw ImageError.writeFailed(file: label, reason: "\(label) encoding failed: \(codecMessage(err))")
        }
        return [UInt8](UnsafeBufferPointer(start: out, count: length))
    }
}
