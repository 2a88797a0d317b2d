/// The text a C codec wrote into `buffer`: up to its first NUL (or all of it), as UTF-8 with invalid bytes
/// replaced, so a hostile file's bytes quoted in a message can never trap.
func codecMessage(_ buffer: [CChar]) -> String {
    let end = buffer.firstIndex(of: 0) ?? buffer.endIndex
    return String(decoding: buffer[..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
