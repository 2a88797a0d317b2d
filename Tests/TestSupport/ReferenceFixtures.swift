import Foundation
import Testing
import TensorCore

// Shared by the test targets that compare ops with committed references (TensorCoreTests, ModelsTests,
// VisualizationTests): the fixture format of Scripts/fixtures/common.py and the finite-difference check.

/// One case of a committed reference fixture (see Scripts/fixtures/common.py for the format).
public struct FixtureCase: Decodable, Sendable {
    public struct Values: Decodable, Sendable {
        public let shape: [Int]
        public let data: [Float]
        public var tensor: Tensor { Tensor(shape: shape, storage: data) }
    }
    public let name: String
    public let params: [String: FixtureParam]?
    public let inputs: [String: Values]
    public let outputs: [String: Values]
    public let grads: [String: Values]?

    public func input(_ key: String) -> Tensor {
        guard let v = inputs[key] else { fatalError("fixture case \(name) has no input \(key)") }
        return v.tensor
    }
    public func output(_ key: String = "out") -> Tensor {
        guard let v = outputs[key] else { fatalError("fixture case \(name) has no output \(key)") }
        return v.tensor
    }
    public func grad(_ key: String) -> Tensor {
        guard let v = grads?[key] else { fatalError("fixture case \(name) has no gradient \(key)") }
        return v.tensor
    }
    public func int(_ key: String) -> Int {
        guard case .int(let v)? = params?[key] else { fatalError("fixture case \(name) has no int param \(key)") }
        return v
    }
    public func ints(_ key: String) -> [Int] {
        guard case .ints(let v)? = params?[key] else { fatalError("fixture case \(name) has no int-list param \(key)") }
        return v
    }
    public func double(_ key: String) -> Double {
        switch params?[key] {
        case .double(let v)?: return v
        case .int(let v)?: return Double(v)
        default: fatalError("fixture case \(name) has no number param \(key)")
        }
    }
    public func string(_ key: String) -> String {
        guard case .string(let v)? = params?[key] else { fatalError("fixture case \(name) has no string param \(key)") }
        return v
    }
    public func bool(_ key: String) -> Bool {
        guard case .bool(let v)? = params?[key] else { fatalError("fixture case \(name) has no bool param \(key)") }
        return v
    }
    public func has(_ key: String) -> Bool { params?[key] != nil }
}

/// A fixture parameter: JSON number, bool, string, or list of integers.
public enum FixtureParam: Decodable, Sendable {
    case int(Int), double(Double), bool(Bool), string(String), ints([Int]), null
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let v = try? c.decode(Bool.self) { self = .bool(v) }
        else if let v = try? c.decode(Int.self) { self = .int(v) }
        else if let v = try? c.decode(Double.self) { self = .double(v) }
        else if let v = try? c.decode(String.self) { self = .string(v) }
        else { self = .ints(try c.decode([Int].self)) }
    }
}

private struct FixtureFile: Decodable { let cases: [FixtureCase] }

/// Loads `Fixtures/<name>` of the test target whose resource bundle is `bundle` (pass `.module`).
public func loadFixtureCases(_ name: String, in bundle: Bundle) throws -> [FixtureCase] {
    guard let url = bundle.url(forResource: "Fixtures/" + name, withExtension: nil) else {
        throw FixtureMissing(name: name)
    }
    return try JSONDecoder().decode(FixtureFile.self, from: Data(contentsOf: url)).cases
}

public struct FixtureMissing: Error, CustomStringConvertible {
    public let name: String
    public var description: String { "fixture \(name) is missing: run `make fixtures` (Scripts/fixtures/) and commit it" }
}

/// Expects `actual` to equal `expected` in shape and within `atol + rtol * |expected|` elementwise.
/// On failure it reports the first mismatches and the largest difference, so a failure explains itself.
public func expectClose(_ actual: Tensor, _ expected: Tensor, atol: Float = 1e-5, rtol: Float = 1e-4,
                 _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    guard actual.shape == expected.shape else {
        Issue.record("\(what): shape \(actual.shape), expected \(expected.shape)", sourceLocation: sourceLocation)
        return
    }
    var worst: Float = 0, worstIndex = 0, bad: [String] = []
    for i in 0..<actual.count {
        let a = actual.storage[i], e = expected.storage[i]
        let diff = Swift.abs(a - e)
        if diff > worst || diff.isNaN { worst = diff; worstIndex = i }
        if !(diff <= atol + rtol * Swift.abs(e)) && bad.count < 5 { bad.append("[\(i)] \(a) vs \(e)") }
    }
    if !bad.isEmpty {
        Issue.record("\(what): max |diff| \(worst) at \(worstIndex); first mismatches: \(bad.joined(separator: ", "))",
                     sourceLocation: sourceLocation)
    }
}

/// Runs `op` on a fixture case's inputs, backpropagates the stored upstream gradient `gout`, and compares
/// the output and the gradient of every input listed in the case's `grads` with PyTorch's.
public func runOpFixture(_ c: FixtureCase, atol: Float = 1e-5, rtol: Float = 1e-4,
                  sourceLocation: SourceLocation = #_sourceLocation, _ op: ([String: Tensor]) -> Tensor) {
    var inputs: [String: Tensor] = [:]
    for key in c.inputs.keys where key != "gout" {
        let t = c.input(key)
        t.requiresGrad = c.grads?[key] != nil
        inputs[key] = t
    }
    let out = op(inputs)
    expectClose(out, c.output(), atol: atol, rtol: rtol, "\(c.name) forward", sourceLocation: sourceLocation)
    guard out.shape == c.output().shape, let grads = c.grads, !grads.isEmpty else { return }
    out.backward(seed: c.input("gout"))
    for key in grads.keys.sorted() {
        guard let g = inputs[key]?.grad else {
            Issue.record("\(c.name): no gradient reached input \(key)", sourceLocation: sourceLocation)
            continue
        }
        expectClose(g, c.grad(key), atol: atol, rtol: rtol, "\(c.name) d/d\(key)", sourceLocation: sourceLocation)
    }
}

/// Centred finite-difference check of d(sum(w * f(x)))/dx against autograd, for a fixed random weighting w.
///
/// Differences are taken in Double around float32 evaluations with step `eps`; the tolerance is relative to
/// the largest gradient magnitude (float32 rounding makes tiny components noisy).
public func expectGradientMatchesFiniteDifferences(_ what: String, at x0: Tensor, eps: Float = 1e-2, tolerance: Float = 2e-2,
                                            seed: UInt64 = 7, sourceLocation: SourceLocation = #_sourceLocation,
                                            _ f: (Tensor) -> Tensor) {
    var rng = SeededGenerator(seed: seed)
    let probe = f(x0.detached())
    let w = Tensor.randomNormal(shape: probe.shape, using: &rng)
    func score(_ x: Tensor) -> Double {
        let y = GradMode.withoutGrad { f(x) }
        var s = 0.0
        for i in 0..<y.count { s += Double(y.storage[i]) * Double(w.storage[i]) }
        return s
    }
    let x = x0.detached()
    x.requiresGrad = true
    let y = f(x)
    y.backward(seed: w)
    guard let analytic = x.grad else {
        Issue.record("\(what): no gradient reached the input", sourceLocation: sourceLocation)
        return
    }
    var numeric = [Float](repeating: 0, count: x0.count)
    for i in 0..<x0.count {
        let plus = x0.detached(); plus.storage[i] += eps
        let minus = x0.detached(); minus.storage[i] -= eps
        numeric[i] = Float((score(plus) - score(minus)) / (2 * Double(eps)))
    }
    let scale = max(numeric.map { Swift.abs($0) }.max() ?? 0, 1e-3)
    expectClose(analytic, Tensor(shape: x0.shape, storage: numeric), atol: tolerance * scale, rtol: 0,
                "\(what) gradient vs finite differences", sourceLocation: sourceLocation)
}
