import Experiments
import Foundation
import ImageIO
import Models
import TensorCore
import Testing
import Visualization

/// `filtervis card`: the PNG is the card the library draws from `VisualizationJob`'s preference image (same preset
/// and seed) and `PatchSearch.run`'s patches; patches read from a `patches` index give the same card.
@Suite(.serialized) struct CardCommandTests {
    static let layer = "conv2", filter = 17, seed: UInt64 = 4

    /// The card as the library makes it in this process.
    func expectedCard(network: Network, photos: URL, seed: UInt64) throws -> Image {
        let target = try network.layer(Self.layer)
        let job = try VisualizationJob(network: network, layer: target, filters: [Self.filter], preset: .keras2016, seed: seed, batchSize: 1)
        let result = try #require(try job.run().first)
        #expect(result.filter == Self.filter && result.score > 0, "a live filter, so the picture is not blank")
        let preference = Image(tensor: reshape(result.rgb, [1] + result.rgb.shape))
        let search = try PatchSearch.run(network: network, layers: [target], images: LibraryReference.files(in: photos),
                                         settings: PatchSearchSettings(top: 3), filters: [Self.layer: [Self.filter]])
        let patches = try #require(search.layers[Self.layer]?[Self.filter])
        #expect(patches.count == 3)
        let record = CardRecord(model: "alexnet", layer: Self.layer, filter: Self.filter, preset: "keras2016", seed: seed, patches: patches)
        return try CardOutput.image(record, preference: preference)
    }

    @Test("A card from a search and from a patches index: the library's preference image and patches")
    func matchesTheLibrary() throws {
        let network = try LibraryReference.network()
        let photos = try LibraryReference.photos()
        let folder = temporaryFolder()
        defer { for url in [photos, folder] { try? FileManager.default.removeItem(at: url) } }
        let common = ["card", "--model", "alexnet", "--layer", Self.layer, "--filter", String(Self.filter), "--top", "3",
                      "--preset", "keras2016", "--seed", String(Self.seed), "--threads", "2"]
        let searched = folder.appendingPathComponent("searched.png")
        guard let result = try CLI.run(common + ["--images", photos.path, "--out", searched.path]) else { return }
        try #require(result.status == 0, "\(result.stderr)")

        LibraryReference.expectPNG(searched, equals: try expectedCard(network: network, photos: photos, seed: Self.seed))
        // The comparison sees the seed: another seed's preference image gives another card.
        #expect(LibraryReference.png(searched) != (try expectedCard(network: network, photos: photos, seed: Self.seed + 1)))

        // The same patches taken from a `patches` run's index.json: the same card, byte for byte.
        let patches = folder.appendingPathComponent("patches")
        guard let search = try CLI.run(["patches", "--model", "alexnet", "--layers", Self.layer, "--filters", String(Self.filter),
                                        "--top", "3", "--images", photos.path, "--out", patches.path]) else { return }
        try #require(search.status == 0, "\(search.stderr)")
        let indexed = folder.appendingPathComponent("indexed.png")
        guard let fromIndex = try CLI.run(common + ["--patches-index", patches.appendingPathComponent("index.json").path,
                                                    "--out", indexed.path]) else { return }
        #expect(fromIndex.status == 0, "\(fromIndex.stderr)")
        #expect(try Data(contentsOf: indexed) == Data(contentsOf: searched), "card from --patches-index vs from --images")
        #expect(OutputFixtures.listing(folder) == ["indexed.png", "patches", "searched.png"], "temporaries left")
    }
}
