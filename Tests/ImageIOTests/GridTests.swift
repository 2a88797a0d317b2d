import Testing
@testable import ImageIO

@Suite("Grids and the bitmap font")
struct GridTests {
    func tile(_ v: UInt8) -> Image { Image(width: 4, height: 3, channels: 3, fill: RGB(gray: v)) }

    @Test("Layout: size, tile positions, margins in the background colour")
    func layout() throws {
        let grid = try Image.grid([tile(10), tile(20), tile(30)], layout: GridLayout(columns: 2, margin: 1, background: RGB(1, 2, 3)))
        // 2 columns * (4 + 1) + 1 = 11 wide; 2 rows * (3 + 1) + 1 = 9 high.
        #expect(grid.width == 11 && grid.height == 9)
        #expect(grid.pixel(x: 0, y: 0) == [1, 2, 3])
        #expect(grid.pixel(x: 1, y: 1) == [10, 10, 10] && grid.pixel(x: 4, y: 3) == [10, 10, 10])
        #expect(grid.pixel(x: 5, y: 1) == [1, 2, 3])           // margin between tiles
        #expect(grid.pixel(x: 6, y: 1) == [20, 20, 20])
        #expect(grid.pixel(x: 1, y: 5) == [30, 30, 30])
        #expect(grid.pixel(x: 6, y: 5) == [1, 2, 3])           // empty fourth cell
        // Default columns: ceil(sqrt(5)) = 3.
        #expect(try Image.grid(Array(repeating: tile(0), count: 5), layout: GridLayout(margin: 0)).width == 12)
    }

    @Test("Errors: no tiles, mixed sizes, label count")
    func errors() {
        #expect(expectImageError { _ = try Image.grid([]) }?.kind == .invalidArgument)
        let odd = Image(width: 5, height: 3, channels: 3, fill: .black)
        #expect(expectImageError { _ = try Image.grid([tile(0), odd]) }?.reason.contains("tile 1 is 5 x 3") == true)
        #expect(expectImageError { _ = try Image.grid([tile(0)], labels: ["a", "b"]) }?.kind == .invalidArgument)
    }

    @Test("Glyph pixels: '1' drawn at scale 1 matches its 5 x 7 bitmap")
    func glyph() {
        var image = Image(width: 5, height: 7, channels: 1, fill: .black)
        image.draw(text: "1", x: 0, y: 0, color: .white)
        let expected = [
            "..#..",
            ".##..",
            "..#..",
            "..#..",
            "..#..",
            "..#..",
            ".###.",
        ].joined().map { $0 == "#" ? UInt8(255) : 0 }
        #expect(image.pixels == expected)
        // Lower case draws as upper case; unknown characters as '?'.
        var a = Image(width: 5, height: 7, channels: 1, fill: .black), b = a, q = a, u = a
        a.draw(text: "a", x: 0, y: 0, color: .white); b.draw(text: "A", x: 0, y: 0, color: .white)
        q.draw(text: "?", x: 0, y: 0, color: .white); u.draw(text: "\u{e9}", x: 0, y: 0, color: .white)
        #expect(a == b && q == u && a != q)
    }

    @Test("Labels sit centred under each tile, at scale 2, clipped to the tile")
    func labels() throws {
        let tiles = [Image(width: 30, height: 10, channels: 3, fill: .white)]
        let layout = GridLayout(margin: 0, background: .white, labelColor: .black, labelScale: 2)
        let grid = try Image.grid(tiles, labels: ["7"], layout: layout)
        #expect(grid.height == 10 + 18)  // strip = (7 + 2) * 2
        // "7" is 10 pixels wide at scale 2, centred: x from 10; its top row is all ink, starting 2 below the tile.
        #expect(grid.pixel(x: 10, y: 12) == [0, 0, 0] && grid.pixel(x: 19, y: 12) == [0, 0, 0])
        #expect(grid.pixel(x: 9, y: 12) == [255, 255, 255] && grid.pixel(x: 20, y: 12) == [255, 255, 255])
        #expect(grid.pixel(x: 10, y: 11) == [255, 255, 255])
        // A label wider than the tile is clipped, not spilled into the next cell.
        let two = try Image.grid(tiles + tiles, labels: ["WWWWWWWWWWWW", ""], layout: GridLayout(columns: 2, margin: 0))
        let secondTileStrip = (30..<60).flatMap { x in (10..<19).map { y in two.pixel(x: x, y: y) } }
        #expect(secondTileStrip.allSatisfy { $0 == [255, 255, 255] })
    }
}

@Suite("Colours")
struct ColourTests {
    @Test("RGB(parsing:) reads names, #rrggbb, rrggbb and r,g,b; refuses the rest; prints #rrggbb")
    func parsing() {
        #expect(RGB(parsing: "white") == .white && RGB(parsing: "Black") == .black && RGB(parsing: "grey") == RGB(gray: 128))
        #expect(RGB(parsing: "#102030") == RGB(16, 32, 48) && RGB(parsing: "ff8000") == RGB(255, 128, 0))
        #expect(RGB(parsing: "1, 2,3") == RGB(1, 2, 3))
        for bad in ["", "#12345", "#1234567", "zzzzzz", "1,2", "1,2,256", "-1,0,0", "purple"] {
            #expect(RGB(parsing: bad) == nil, "\(bad)")
        }
        #expect(RGB(255, 128, 0).description == "#ff8000")
    }
}
