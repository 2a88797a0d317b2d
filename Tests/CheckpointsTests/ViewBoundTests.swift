import Foundation
import Testing
@testable import Checkpoints

/// Stride-0 and overlapping views: a tiny storage may not expand into gigabytes (issue 11 §4).
@Suite struct ViewBoundTests {
    static let storage: [Float] = [1, 2, 3, 4]

    static func pth(shape: [Int], strides: [Int], name: String = "w", storage: [Float] = storage) -> Data {
        let pickle = TorchPickle.stateDict([(name, "0", storage.count, 0, shape, strides)])
        return TorchPickle.zip(pickle, storages: [("0", storage)]).build().data
    }

    @Test func aSmallBroadcastViewLoadsWithTheRightValues() throws {
        // Shape (3, 4) with strides (0, 1): the storage repeated three times, 48 bytes from 16.
        let checkpoint = try Checkpoint.load(Self.pth(shape: [3, 4], strides: [0, 1]), format: .torchZip)
        #expect(try checkpoint.tensor(named: "w").floats() == [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4])
        // And through format detection from a file.
        let path = try temporaryFile(Self.pth(shape: [4, 2], strides: [1, 0]), name: "bcast.pth")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try Checkpoint.load(path: path).tensor(named: "w").floats() == [1, 1, 2, 2, 3, 3, 4, 4])
    }

    /// (2^31-1, 64) over a 64-element storage crashed the loader; (2^28, 4) over 4 elements loaded as 4.3 GB.
    @Test(arguments: [[Int(Int32.max), 64], [1 << 28, 4], [1 << 20, 1]])
    func hugeStrideZeroViewsAreRefusedNamingTheKey(shape: [Int]) throws {
        let storage = (0..<shape[1]).map { Float($0) }
        let path = try temporaryFile(Self.pth(shape: shape, strides: [0, 1], name: "features.0.weight", storage: storage),
                                     name: "stride0.pth")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = checkpointError { _ = try Checkpoint.load(path: path) }
        guard case .tensor("features.0.weight", .viewTooLarge(let s, _, _, let limit))? = error?.underlying else {
            Issue.record("expected viewTooLarge for features.0.weight, got \(String(describing: error))"); return
        }
        #expect(s == shape)
        #expect(limit == 4 * 4 * shape[1] + (1 << 20))
        #expect(error?.description.contains("stride0.pth: tensor 'features.0.weight'") == true, "\(String(describing: error))")
    }

    @Test func theBoundCountsEveryTensorCutFromTheSameStorage() throws {
        // 300 views of (1024, 4) with stride 0, 16 KB each from one 16-byte storage: 4.9 MB in all, over the bound.
        var tensors: [(name: String, key: String, numel: Int, offset: Int, shape: [Int], strides: [Int])] = []
        for i in 0..<300 { tensors.append(("t\(i)", "0", 4, 0, [1024, 4], [0, 1])) }
        let data = TorchPickle.zip(TorchPickle.stateDict(tensors), storages: [("0", Self.storage)]).build().data
        let error = checkpointError { _ = try Checkpoint.load(data, format: .torchZip) }
        guard case .tensor(_, .viewTooLarge)? = error?.underlying else { Issue.record("got \(String(describing: error))"); return }
        // 60 of them (983 KB) are within it.
        let fewer = TorchPickle.zip(TorchPickle.stateDict(Array(tensors.prefix(60))), storages: [("0", Self.storage)]).build().data
        #expect(try Checkpoint.load(fewer, format: .torchZip).tensors.count == 60)
    }

    @Test func overflowingShapesAndStridesAreErrors() {
        for (shape, strides) in [([Int(Int32.max), Int(Int32.max), Int(Int32.max)], [0, 0, 0]), ([2, Int(Int32.max)], [Int(Int32.max), Int(Int32.max)])] {
            let error = checkpointError { _ = try Checkpoint.load(Self.pth(shape: shape, strides: strides), format: .torchZip) }
            guard case .tensor("w", _)? = error?.underlying else { Issue.record("\(shape): \(String(describing: error))"); continue }
        }
    }
}
