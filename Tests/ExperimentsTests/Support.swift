import Models

/// The real pretrained networks, loaded once (tests need `make weights`, which `make test` runs first).
enum Pretrained {
    static let vgg16: Network = load("vgg16")
    static let alexnet: Network = load("alexnet")

    static func load(_ name: String) -> Network {
        do { return try Network.load(model: name) } catch { fatalError("\(error) — run `make weights` before the tests") }
    }
}
