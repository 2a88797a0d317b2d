import CImageCodecs
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
            throw ImageError(file: "JPEG", kind: .invalidArgument, reason: "quality \(quality) is outside 1...100")
        }
        guard channels != 4 else {
            throw ImageError(file: "JPEG", kind: .invalidArgument,
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
        } catch var error as ImageError {
            error.file = name
            throw error
        }
        try writeAtomically(bytes, to: url)
    }

    /// Writes as the file name's extension says (.png, .jpg, .jpeg); other extensions are an error.
    public func write(to url: URL, quality: Int = 90) throws {
        guard let format = ImageFormat.forWriting(path: url.path) else {
            throw ImageError(file: url.lastPathComponent, kind: .invalidArgument,
                             reason: "cannot tell the output format from the name: use .png, .jpg or .jpeg")
        }
        try write(to: url, format: format, quality: quality)
    }

    private func encode(label: String, _ call: (UnsafePointer<UInt8>?, UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>,
                                                 UnsafeMutablePointer<Int>, UnsafeMutablePointer<CChar>, Int) -> Int32) throws -> [UInt8] {
        guard width > 0 && height > 0 else {
            throw ImageError(file: label, kind: .invalidArgument, reason: "cannot encode an empty \(width) x \(height) image")
        }
        var out: UnsafeMutablePointer<UInt8>? = nil
        var length = 0
        var err = [CChar](repeating: 0, count: 512)
        let status = pixels.withUnsafeBufferPointer { src in
            err.withUnsafeMutableBufferPointer { e in call(src.baseAddress, &out, &length, e.baseAddress!, e.count) }
        }
        defer { codec_free(out) }
        guard status == 0, let out else {
            throw ImageError(file: label, kind: .writeFailed, reason: "\(label) encoding failed: \(String(cString: err))")
        }
        return [UInt8](UnsafeBufferPointer(start: out, count: length))
    }
}

/// Writes bytes to `url` through a temporary file in the same folder and a rename, so that readers never see a
/// half-written file and a failure leaves nothing behind.
public func writeAtomically(_ bytes: [UInt8], to url: URL) throws {
    let name = url.lastPathComponent
    let folder = url.deletingLastPathComponent()
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw ImageError(file: name, kind: .writeFailed, reason: "the folder \(folder.path) does not exist")
    }
    // Host, process and a random part: shards on different nodes writing to shared storage never collide.
    let unique = "\(ProcessInfo.processInfo.hostName).\(ProcessInfo.processInfo.processIdentifier).\(UInt32.random(in: 0...UInt32.max))"
    let temporary = folder.appendingPathComponent(".\(name).\(unique).tmp")
    do {
        try Data(bytes).write(to: temporary)
        // rename(2) replaces the target atomically within one file system (same folder, so same file system).
        guard rename(temporary.path, url.path) == 0 else {
            throw NSError(domain: NSPOSIXErrorDomain, code: Int(errno),
                          userInfo: [NSLocalizedDescriptionKey: String(cString: strerror(errno))])
        }
    } catch {
        try? FileManager.default.removeItem(at: temporary)
        throw ImageError(file: name, kind: .writeFailed, reason: "cannot write (\(error.localizedDescription))")
    }
}
