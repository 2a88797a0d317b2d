import Foundation
import Models
import Testing

/// The cached real weights and photos the command tests compare against (`make weights photos` fills the cache).
enum RealWeights {
    static var cache: URL { ModelCatalog.cacheDirectory }

    /// The imported network `model` from the cache, or the test is cancelled saying how to get it.
    static func network(_ model: String) throws -> Network {
        let url = ModelCatalog.weightsURL(for: try ModelCatalog.spec(named: model))
        guard FileManager.default.fileExists(atPath: url.path) else { try Test.cancel("skipped: no \(url.path); run `make weights`") }
        return try Network.load(model: model, weights: url)
    }

    /// A file of the cache (e.g. "weights/src/alexnet.ckpt"), or the test is cancelled saying how to get it.
    static func file(_ path: String) throws -> URL {
        let url = cache.appendingPathComponent(path)
        guard FileManager.default.fileExists(atPath: url.path) else { try Test.cancel("skipped: no \(url.path); run `make weights photos`") }
        return url
    }
}
