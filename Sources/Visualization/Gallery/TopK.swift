/// A unit of one image's activation map, ranked for the top-k search.
///
/// `image` indexes the search's image list; images compare by their path (the caller's strings), so ties
/// break the same way whatever order the files were listed or processed in.
struct Candidate: Equatable {
    var activation: Float
    var image: Int
    var scale: Int
    var row: Int
    var column: Int
}

/// The order of the search: activation descending, then image path, scale, row, column ascending
/// (the same order as `Patch.ranksBefore`).
struct CandidateOrder {
    let paths: [String]

    func before(_ a: Candidate, _ b: Candidate) -> Bool {
        if a.activation != b.activation { return a.activation > b.activation }
        if a.image != b.image { return paths[a.image] < paths[b.image] }
        if a.scale != b.scale { return a.scale < b.scale }
        if a.row != b.row { return a.row < b.row }
        return a.column < b.column
    }
}

/// The best `capacity` candidates seen so far, best first, in bounded memory.
///
/// A sorted array with insertion rather than a binary heap: k is small (9 by default), a new candidate is
/// usually rejected by one comparison with the current worst, and the list is already in output order.
struct BoundedTopList {
    let capacity: Int
    private(set) var items: [Candidate] = []

    init(capacity: Int) {
        self.capacity = capacity
        items.reserveCapacity(capacity + 1)
    }

    /// Whether an activation could still enter (strictly better than the worst kept, or room left). Equal
    /// activations go through `insert`, where the full tie-break decides.
    @inline(__always) func mightAccept(_ activation: Float) -> Bool {
        items.count < capacity || activation >= items[items.count - 1].activation
    }

    mutating func insert(_ c: Candidate, order: CandidateOrder) {
        if items.count == capacity, !order.before(c, items[items.count - 1]) { return }
        var i = items.count
        while i > 0 && order.before(c, items[i - 1]) { i -= 1 }
        items.insert(c, at: i)
        if items.count > capacity { items.removeLast() }
    }
}
