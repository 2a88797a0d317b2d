import Foundation
import Checkpoints
import TensorCore

extension Network {
    /// Loads a model by catalogue name from `weights` (default: the imported file in the cache), strictly:
    /// every conv weight present with its exact shape, nothing unexpected.
    ///
    /// The input convention comes from the file's metadata when it records one, else from the catalogue.
    public static func load(model name: String, weights: URL? = nil) throws -> Network {
        let spec = try ModelCatalog.spec(named: name)
        let url = weights ?? ModelCatalog.weightsURL(for: spec)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ModelError.weightsMissing(model: name, path: url.path)
        }
        let checkpoint: Checkpoint
        do {
            checkpoint = try Checkpoint.load(path: url.path)
        } catch {
            throw ModelError.badWeightsFile(file: url.path, reason: "\(error)")
        }
        var parameters: [String: Tensor] = [:]
        // Batch norms' step counters are training state (int64), not weights.
        for tensor in checkpoint.tensors where !tensor.name.hasSuffix(".num_batches_tracked") {
            do {
                // NaN or infinite weights would only surface later as NaN scores: refused here, with their count.
                parameters[tensor.name] = Tensor(shape: tensor.shape, storage: try tensor.finiteFloats())
            } catch {
                throw ModelError.badWeightsFile(file: url.path, reason: "\(error)")  // the error names the tensor
            }
        }
        // torchvision checkpoints may carry buffers with no meaning here; only parameter keys are checked.
        let preprocessing = checkpoint.metadata["preprocessing"].flatMap(Preprocessing.init(rawValue:)) ?? spec.preprocessing
        var provenance = checkpoint.metadata
        provenance["file"] = url.path
        provenance["file_sha256"] = try? SHA256.hex(ofFile: url.path)
        return try Network(name: name, architecture: spec.architecture, preprocessing: preprocessing,
                           parameters: parameters, file: url.lastPathComponent, provenance: provenance)
    }
}
