/// The EXIF orientation tag (0x0112) of a JPEG, and the rotations/flips that undo it.
///
/// Values as in the EXIF spec / Pillow's `ImageOps.exif_transpose`: 1 as stored, 2 mirrored, 3 rotated 180,
/// 4 flipped vertically, 5 transposed, 6 needs a 90 degree clockwise turn, 7 transversed, 8 needs 90 counter-clockwise.
enum ExifOrientation {
    /// The orientation in IFD0 of the first APP1 "Exif" segment before the scan; 1 if absent or unreadable.
    /// Every read is bounds-checked: corrupt metadata means "no orientation", never a crash.
    static func read(fromJPEG d: [UInt8]) -> Int {
        var i = 2  // after SOI
        while i + 4 <= d.count {
            guard d[i] == 0xFF else { return 1 }
            let marker = d[i + 1]
            if marker == 0xFF { i += 1; continue }           // fill byte
            if marker == 0xD8 || (0xD0...0xD7).contains(marker) || marker == 0x01 { i += 2; continue }
            if marker == 0xDA || marker == 0xD9 { return 1 }  // scan data / end: no more metadata
            let length = Int(d[i + 2]) << 8 | Int(d[i + 3])
            guard length >= 2 else { return 1 }
            let body = i + 4, end = min(i + 2 + length, d.count)
            if marker == 0xE1, end - body >= 14, Array(d[body..<(body + 6)]) == [0x45, 0x78, 0x69, 0x66, 0, 0] {
                return orientation(tiff: Array(d[(body + 6)..<end]))
            }
            i += 2 + length
        }
        return 1
    }

    /// Finds tag 0x0112 in IFD0 of a TIFF structure (EXIF payload after "Exif\0\0").
    static func orientation(tiff t: [UInt8]) -> Int {
        guard t.count >= 8 else { return 1 }
        let little: Bool
        switch (t[0], t[1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return 1
        }
        func u16(_ o: Int) -> Int? {
            guard o >= 0, o + 2 <= t.count else { return nil }
            return little ? Int(t[o]) | Int(t[o + 1]) << 8 : Int(t[o]) << 8 | Int(t[o + 1])
        }
        func u32(_ o: Int) -> Int? {
            guard let a = u16(o), let b = u16(o + 2) else { return nil }
            return little ? a | b << 16 : a << 16 | b
        }
        guard u16(2) == 42, let ifd = u32(4), let count = u16(ifd) else { return 1 }
        for entry in 0..<count {
            let o = ifd + 2 + 12 * entry
            guard let tag = u16(o) else { return 1 }
            if tag == 0x0112 {
                guard u16(o + 2) == 3, let value = u16(o + 8), (1...8).contains(value) else { return 1 }
                return value
            }
        }
        return 1
    }
}

extension Image {
    /// The image turned upright for an EXIF orientation value (1...8; anything else leaves it as is).
    public func oriented(exif orientation: Int) -> Image {
        let w = width, h = height
        // For each output pixel, the input pixel it comes from.
        let swapped = orientation >= 5 && orientation <= 8
        let ow = swapped ? h : w, oh = swapped ? w : h
        let source: (Int, Int) -> (Int, Int)
        switch orientation {
        case 2: source = { x, y in (w - 1 - x, y) }
        case 3: source = { x, y in (w - 1 - x, h - 1 - y) }
        case 4: source = { x, y in (x, h - 1 - y) }
        case 5: source = { x, y in (y, x) }
        case 6: source = { x, y in (y, h - 1 - x) }
        case 7: source = { x, y in (w - 1 - y, h - 1 - x) }
        case 8: source = { x, y in (w - 1 - y, x) }
        default: return self
        }
        let c = channels
        var out = [UInt8](repeating: 0, count: pixels.count)
        for y in 0..<oh {
            for x in 0..<ow {
                let (sx, sy) = source(x, y)
                let s = (sy * w + sx) * c, o = (y * ow + x) * c
                for k in 0..<c { out[o + k] = pixels[s + k] }
            }
        }
        return Image(width: ow, height: oh, channels: c, pixels: out)
    }
}
