import Synchronization

/// Names a convolution's weights for the transformed-weights cache: whoever owns the weights (a loaded network)
/// promises that the values behind one identity never change.
///
/// An explicit name, not the array's address: a network's restricted rows are cut anew for each step, and the
/// cache must still hit, while two arrays that merely reuse an address must never be taken for each other.
public struct WeightsIdentity: Hashable, Sendable, CustomStringConvertible {
    /// The owner, unique in the process (`WeightsIdentity.newOwner()`): two loaded networks never share one.
    public let owner: UInt64
    /// The parameter within the owner, e.g. "features.10.weight".
    public let parameter: String
    /// The output channels kept, in order, when the weights are a selection of the parameter's rows.
    public let rows: [Int]?

    public init(owner: UInt64, parameter: String, rows: [Int]? = nil) {
        self.owner = owner
        self.parameter = parameter
        self.rows = rows
    }

    private static let counter = Atomic<UInt64>(0)

    /// A fresh owner number, never handed out before in this process.
    public static func newOwner() -> UInt64 { counter.add(1, ordering: .relaxed).newValue }

    public var description: String {
        "\(owner):\(parameter)" + (rows.map { "[\($0.count) rows]" } ?? "")
    }
}
