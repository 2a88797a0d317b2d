import Checkpoints
import Foundation

/// The checkpoint readers, one target per format, each through `Checkpoint.load(_:format:)` (the call
/// `Checkpoint.load(path:)` makes after detection) or `SafeTensors.read`.
enum CheckpointTargets {
    static let all: [FuzzTarget] = [
        format("pickle", .numpyPickle),      // the restricted unpickler and the numpy-array walker
        format("zip", .torchZip),            // the zip reader, then the pickle and storages inside
        format("legacy", .torchLegacy),      // five pickles and the raw storages after them
        format("onnx", .onnx),               // protobuf ModelProto -> GraphProto -> TensorProto initializers
        FuzzTarget(name: "safetensors", errorModules: ["Checkpoints"]) { input, violation in
            try checkSafeTensors(Data(input), violation)
        },
    ]

    static func format(_ name: String, _ format: CheckpointFormat) -> FuzzTarget {
        FuzzTarget(name: name, errorModules: ["Checkpoints"]) { input, violation in
            let data = Data(input)
            try check(try Checkpoint.load(data, format: format), inputBytes: data.count, violation)
        }
    }

    /// Bytes a checkpoint's tensors may hold per input byte. ONNX int64_data turns a 1-byte varint into 8 bytes;
    /// nothing else may grow (views expanding a tiny storage into gigabytes are the stride-0 bomb of issue 11).
    static let maxExpansion = 8
    static let expansionSlack = 1 << 20

    /// What every successfully read checkpoint promises, whatever the format.
    static func check(_ checkpoint: Checkpoint, inputBytes: Int, _ violation: (String) -> ContractViolation) throws {
        let bound = maxExpansion * inputBytes + expansionSlack
        guard checkpoint.byteCount <= bound else {
            throw violation("\(inputBytes) input bytes became \(checkpoint.byteCount) tensor bytes (bound \(bound))")
        }
        for (a, b) in zip(checkpoint.names, checkpoint.names.dropFirst()) where !(a < b) {
            throw violation("tensor names not sorted and unique: '\(a)' before '\(b)'")
        }
        for tensor in checkpoint.tensors {
            guard checkpoint[tensor.name]?.name == tensor.name else { throw violation("lookup of '\(tensor.name)' fails") }
            let count = tensor.shape.reduce(1, *)
            guard tensor.shape.allSatisfy({ $0 >= 0 }), tensor.byteCount == count * tensor.dtype.size else {
                throw violation("tensor '\(tensor.name)' shape \(tensor.shape) does not match its \(tensor.byteCount) bytes")
            }
            // Converting to floats must work for every stored tensor (it is what loading a network does).
            let floats = try tensor.floats()
            guard floats.count == count else { throw violation("tensor '\(tensor.name)' gave \(floats.count) floats, not \(count)") }
        }
    }

    /// safetensors also promises a round trip: what it reads it can write, and it reads back the same;
    /// and detection by first bytes must claim every file the reader accepts (else `load(path:)` refuses it).
    static func checkSafeTensors(_ data: Data, _ violation: (String) -> ContractViolation) throws {
        let checkpoint = try SafeTensors.read(data)
        try check(checkpoint, inputBytes: data.count, violation)
        guard CheckpointFormat.detect(data) == .safetensors else {
            throw violation("SafeTensors.read accepts the file but detection says "
                + "\(CheckpointFormat.detect(data).map(\.rawValue) ?? "unknown format")")
        }
        let encoded = SafeTensors.encode(checkpoint)
        guard CheckpointFormat.detect(encoded) == .safetensors else {
            throw violation("a file SafeTensors.encode wrote is detected as "
                + "\(CheckpointFormat.detect(encoded).map(\.rawValue) ?? "unknown format")")
        }
        let again: Checkpoint
        do { again = try SafeTensors.read(encoded) } catch { throw violation("cannot read back what encode wrote: \(error)") }
        guard again.names == checkpoint.names, again.metadata == checkpoint.metadata,
              zip(again.tensors, checkpoint.tensors).allSatisfy({
                  $0.dtype == $1.dtype && $0.shape == $1.shape && $0.data == $1.data }) else {
            throw violation("the round trip through SafeTensors.encode changed the checkpoint")
        }
    }
}
