/// A size written "WIDTHxHEIGHT", e.g. "224x224" (the CLI's --crop and --tile values).
///
/// Lives in the library, not the CLI, so the fuzz target `args` reaches the same parser.
public struct PixelSize: Equatable, Sendable {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) { (self.width, self.height) = (width, height) }

    /// Parses "WxH" (either x case), each side 1...65535; nil for anything else.
    public init?(argument: String) {
        let parts = argument.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), w > 0, h > 0, w <= 65_535, h <= 65_535
        else { return nil }
        (width, height) = (w, h)
    }
}
