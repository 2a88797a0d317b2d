import FileOutput
import Foundation
import ImageIO

/// Images into the output writers of FileOutput (which knows bytes, not images).
extension OutputStaging {
    /// Encodes PNG and writes it into the staged folder through the one `ResultWriter`.
    public func write(_ image: Image, to relative: String) throws {
        try ResultWriter(staging: self).write(image, to: relative)
    }
}

extension OutputFile {
    /// Encodes as the name's extension says (.png, .jpg, .jpeg) and writes atomically.
    public static func write(_ image: Image, to url: URL, quality: Int = 90) throws {
        guard let format = ImageFormat.forWriting(path: url.path) else {
            throw ImageError(file: url.lastPathComponent, kind: .invalidArgument,
                             reason: "cannot tell the output format from the name: use .png, .jpg or .jpeg")
        }
        if OutputFolder.isFolder(url) { throw OutputError.isAFolder(path: url.path) }
        try write(format == .png ? try image.pngData() : try image.jpegData(quality: quality), to: url)
    }
}
