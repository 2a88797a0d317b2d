import FileOutput
import Foundation
import Visualization

/// `<layer>/patches.json`: the merged top patches of every filter, photos named relative to the photo folder.
struct LayerPatches: OutputDocument {
    static let schema = "filtervis.experiment.patches/2"
    var layer: String
    var scoreTensor: String
    var settings: PatchSearchSettings
    var photos: Int
    var skipped: [SkippedFile]
    var filters: [FilterPatches]
}

/// `<layer>/patches/partNNN.json`: one unit's share of the search, merged exactly by `PatchSearch.merge`.
extension PatchSearchResult: OutputDocument {
    public static let schema = "filtervis.patches.search/2"
}

/// How the experiment reads the patch search's results (one place to adapt if that API changes).
enum ExperimentPatches {
    /// A filter's patches, best first (the result lists every channel of the layer; unsearched ones are empty).
    static func patches(in result: PatchSearchResult, layer: String, filter: Int) -> [Patch] {
        guard let lists = result.layers[layer], filter < lists.count else { return [] }
        return lists[filter]
    }
}
