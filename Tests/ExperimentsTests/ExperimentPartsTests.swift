@testable import Experiments
import FileOutput
import Foundation
import ImageIO
import TensorCore
import Testing
import Visualization

/// The small pieces under the runner: feature-map tiles, seed stability, and config.json round trips.
struct ExperimentPartsTests {
    @Test func eachFeatureMapIsScaledToItsOwnRange() {
        // (1, 3, 2, 2): a ramp, a negative ramp, and a constant map.
        let maps = Tensor(shape: [1, 3, 2, 2], storage: [0, 1, 2, 4, -3, -2, -1, 1, 5, 5, 5, 5])
        let tiles = FeatureMaps.tiles(maps, tile: 2)
        #expect(tiles.map(\.channels) == [1, 1, 1])
        // (v - min) * 255 / (max - min), rounded: 0, 63.75 -> 64, 127.5 -> 128, 255.
        #expect(tiles[0].pixels == [0, 64, 128, 255])
        // -3..1: 0, 63.75 -> 64, 127.5 -> 128, 255.
        #expect(tiles[1].pixels == [0, 64, 128, 255])
        #expect(tiles[2].pixels == [0, 0, 0, 0])
        // Enlarged 2 -> 4 with the box filter: each value becomes a 2x2 block.
        let big = FeatureMaps.tiles(maps, tile: 4)[0]
        #expect(big.pixels == [0, 0, 64, 64, 0, 0, 64, 64, 128, 128, 255, 255, 128, 128, 255, 255])
    }

    @Test func featureMapGridHasOneLabelledTilePerChannel() throws {
        let maps = Tensor(shape: [1, 5, 3, 3], storage: (0..<45).map(Float.init))
        let grid = try FeatureMaps.grid(maps, tile: 8)
        // ceil(sqrt(5)) = 3 columns, 2 rows; margin 3; label strip 9 px.
        #expect(grid.width == 3 * (8 + 3) + 3)
        #expect(grid.height == 2 * (8 + 9 + 3) + 3)
    }

    @Test func seedCorrelationIsPearsonOverPairs() {
        let a = Image(width: 2, height: 1, channels: 3, pixels: [0, 10, 20, 30, 40, 50])
        let same = a
        let inverted = Image(width: 2, height: 1, channels: 3, pixels: a.pixels.map { 255 - $0 })
        let flat = Image(width: 2, height: 1, channels: 3, pixels: [7, 7, 7, 7, 7, 7])
        #expect(SeedStability.meanPairwiseCorrelation([a]) == nil)
        #expect(abs(SeedStability.meanPairwiseCorrelation([a, same])! - 1) < 1e-12)
        #expect(abs(SeedStability.meanPairwiseCorrelation([a, inverted])! + 1) < 1e-12)
        #expect(SeedStability.meanPairwiseCorrelation([a, flat]) == 0)
        // Three images: pairs (a, same) = 1, (a, inverted) = -1, (same, inverted) = -1 -> mean -1/3.
        #expect(abs(SeedStability.meanPairwiseCorrelation([a, same, inverted])! + 1.0 / 3) < 1e-12)
    }

    @Test func configRoundTripsThroughConfigJSON() throws {
        let config = try ExperimentConfig.parse("""
        {layers: ['conv1_1'], filters: {conv1_1: [1, 2]}, preset: ['lucid'], overrides: {steps: 3}, seeds: [4],
         featuremaps: {layers: ['pool1'], photo: 'a.jpg'}, patches: {layers: ['conv2_1']}, threads: 2}
        """, file: "x.json5", defaultName: "x")
        let decoded = try OutputJSON.decode(ExperimentConfig.self, from: Data(ExperimentStore.json(config)), file: "config.json")
        #expect(decoded == config)
    }

    @Test func htmlEscapesAndFormatsNumbersStably() {
        #expect(HTML.escape("<a href=\"x\">'&'</a>") == "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;")
        #expect(HTML.number(Float(0.123456)) == "0.123")
        #expect(HTML.number(Float(1796.4)) == "1796")
        #expect(HTML.number(Float?.none) == "–")
    }
}
