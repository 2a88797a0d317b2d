import Testing
@testable import Models

@Suite struct ArchitectureTests {
    let vgg = Architecture.vgg16
    let alex = Architecture.alexnet

    @Test func vggHasTorchvisionLayoutAndConvCount() {
        let convs = vgg.layers.filter { if case .conv = $0.kind { return true }; return false }
        #expect(convs.map(\.path) == [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28].map { "features.\($0)" })
        let convParams = vgg.parameterShapes.filter { $0.key.hasPrefix("features.") }.map { $0.shape.reduce(1, *) }.reduce(0, +)
        #expect(convParams == 14_714_688)   // the exact VGG16 conv parameter count
        let all = vgg.parameterShapes.map { $0.shape.reduce(1, *) }.reduce(0, +)
        #expect(all == 138_357_544)          // torchvision vgg16 total
        #expect(vgg.layers.filter { $0.path.hasPrefix("classifier.") }.count == 7)
    }

    @Test func alexnetHasTorchvisionLayout() {
        let convs = alex.layers.filter { if case .conv = $0.kind { return true }; return false }
        #expect(convs.map(\.path) == ["features.0", "features.3", "features.6", "features.8", "features.10"])
        let all = alex.parameterShapes.map { $0.shape.reduce(1, *) }.reduce(0, +)
        #expect(all == 61_100_840)           // torchvision alexnet total
        #expect(alex.parameterShapes.first { $0.key == "classifier.1.weight" }?.shape == [4096, 9216])
    }

    @Test(arguments: [
        ("conv1_1", 0), ("relu1_1", 1), ("block1_conv1", 1), ("pool1", 4), ("block1_pool", 4),
        ("conv3_1", 10), ("features.10", 10), ("relu3_1", 11), ("block3_conv1", 11),
        ("conv5_3", 28), ("block5_conv3", 29), ("pool5", 30),
    ])
    func vggNamesTapTheDocumentedModules(name: String, index: Int) {
        #expect(vgg.names.indexByName[name] == index)
    }

    @Test func vggClassifierNames() {
        let fc6 = vgg.names.indexByName["fc6"]!, fc8 = vgg.names.indexByName["fc8"]!
        #expect(vgg.layers[fc6].path == "classifier.0")
        #expect(vgg.layers[vgg.names.indexByName["relu6"]!].path == "classifier.1")
        #expect(vgg.layers[vgg.names.indexByName["fc7"]!].path == "classifier.3")
        #expect(vgg.layers[fc8].path == "classifier.6")
        #expect(vgg.names.indexByName["logits"] == fc8)
    }

    @Test func alexnetNames() {
        let expected = ["conv1": 0, "relu1": 1, "pool1": 2, "conv2": 3, "pool2": 5, "conv3": 6, "conv4": 8,
                        "conv5": 10, "relu5": 11, "pool5": 12]
        for (name, index) in expected { #expect(alex.names.indexByName[name] == index, "\(name)") }
        #expect(alex.layers[alex.names.indexByName["fc6"]!].path == "classifier.1")
        #expect(alex.layers[alex.names.indexByName["fc7"]!].path == "classifier.4")
        #expect(alex.layers[alex.names.indexByName["fc8"]!].path == "classifier.6")
    }

    @Test func receptiveFieldsMatchKnownValues() {
        let conv53 = ReceptiveField(layers: vgg.layers, through: vgg.names.indexByName["conv5_3"]!)
        #expect(conv53.size == 196 && conv53.jump == 16)
        let conv5 = ReceptiveField(layers: alex.layers, through: alex.names.indexByName["conv5"]!)
        #expect(conv5.size == 163 && conv5.jump == 16)
        let pool5 = ReceptiveField(layers: alex.layers, through: alex.names.indexByName["pool5"]!)
        #expect(pool5.size == 195 && pool5.jump == 32)
        let conv11 = ReceptiveField(layers: vgg.layers, through: 0)
        #expect(conv11 == ReceptiveField(layers: [vgg.layers[0]], through: 0))
        #expect(conv11.size == 3 && conv11.jump == 1 && conv11.firstOffset == -1)
    }

    @Test func unitRectanglesFollowJumpAndClip() {
        let rf = ReceptiveField(layers: vgg.layers, through: vgg.names.indexByName["conv3_1"]!)
        // conv3_1: size 24? (3 + 2 + 2*2 + 2*2 + 2*4... computed), jump 4.
        #expect(rf.jump == 4)
        let a = rf.rectangle(row: 0, column: 0), b = rf.rectangle(row: 1, column: 2)
        #expect(b.top - a.top == 4 && b.left - a.left == 8 && a.height == rf.size)
        let clipped = rf.clippedRectangle(row: 0, column: 0, height: 128, width: 128)
        #expect(clipped.top == 0 && clipped.left == 0 && clipped.height == rf.size + rf.firstOffset)
    }

    @Test func filterSelections() throws {
        #expect(try FilterSelection.parse("0-3,7, 9", channels: 64, layer: "conv1_1") == [0, 1, 2, 3, 7, 9])
        #expect(try FilterSelection.parse("all", channels: 4, layer: "x") == [0, 1, 2, 3])
        #expect(throws: ModelError.filterOutOfRange("60-70", layer: "conv1_1", channels: 64)) {
            try FilterSelection.parse("60-70", channels: 64, layer: "conv1_1")
        }
        #expect(throws: ModelError.self) { try FilterSelection.parse("3-1", channels: 64, layer: "x") }
        #expect(throws: ModelError.self) { try FilterSelection.parse("a", channels: 64, layer: "x") }
    }
}
