// Reshape and flatten (views are copies here: storage is always contiguous).

/// The same elements under a new shape; one extent may be -1 (inferred).
public func reshape(_ x: Tensor, _ shape: [Int]) -> Tensor {
    var shape = shape
    if let unknown = shape.firstIndex(of: -1) {
        let known = shape.enumerated().filter { $0.offset != unknown }.map(\.element).reduce(1, *)
        precondition(known > 0 && x.count % known == 0, "reshape: cannot infer -1 for \(x.shape) -> \(shape)")
        shape[unknown] = x.count / known
    }
    precondition(shape.reduce(1, *) == x.count, "reshape: \(x.shape) has \(x.count) elements, \(shape) needs \(shape.reduce(1, *))")
    let inShape = x.shape
    return Tensor.result(op: "reshape", shape: shape, storage: x.storage, inputs: [x]) { g in
        [Tensor(shape: inShape, storage: g.storage)]
    }
}

/// Collapses axes `startAxis...` into one (PyTorch `torch.flatten(x, startAxis)`).
public func flatten(_ x: Tensor, startAxis: Int = 1) -> Tensor {
    precondition(startAxis >= 0 && startAxis <= x.rank, "flatten: start axis \(startAxis) out of range for \(x.shape)")
    return reshape(x, Array(x.shape.prefix(startAxis)) + [x.shape.dropFirst(startAxis).reduce(1, *)])
}
