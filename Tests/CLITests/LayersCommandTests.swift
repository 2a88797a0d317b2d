import Testing

/// `filtervis layers`: the table a user picks `--layer` from, against hand-computed shapes and receptive fields.
@Suite struct LayersCommandTests {
    func row(_ output: String, _ name: String) -> String? {
        output.split(separator: "\n").map(String.init).first { $0.hasPrefix(name + " ") }
    }

    @Test func alexnetRowsAreTheHandComputedOnes() throws {
        guard let result = try CLI.run(["layers", "--model", "alexnet"]) else { return }
        #expect(result.status == 0, "\(result.stderr)")
        // conv5 at 224: 224 -> conv1 (11/4 pad 2) 55 -> pool 27 -> conv2 27 -> pool 13 -> conv3-5 13; field 163, stride 16.
        let conv5 = try #require(row(result.stdout, "conv5"), "\(result.stdout)")
        #expect(conv5.contains("features.10") && conv5.contains("conv 3x3/1 pad 1 -> 256"))
        #expect(conv5.contains("256 x 13 x 13") && conv5.contains("163 px / 16"))
        let pool5 = try #require(row(result.stdout, "pool5"))
        #expect(pool5.contains("256 x 6 x 6") && pool5.contains("195 px / 32"))
        let fc8 = try #require(row(result.stdout, "fc8"))
        #expect(fc8.contains("linear -> 1000") && fc8.contains(" 1000 ") && fc8.contains("logits"))
        #expect(result.stdout.split(separator: "\n").count == 1 + 22, "a header and one line per module")
    }

    @Test func vggAliasesAndTooSmallInputs() throws {
        guard let result = try CLI.run(["layers", "--model", "vgg16", "--size", "20"]) else { return }
        #expect(result.status == 0, "\(result.stderr)")
        // relu3_1 also answers to Keras's block3_conv1; at 20 px: 20 -> pool1 10 -> pool2 5 -> conv3_1 5 x 5, field 24 / 4.
        let relu = try #require(row(result.stdout, "relu3_1"))
        #expect(relu.contains("block3_conv1") && relu.contains("256 x 5 x 5") && relu.contains("24 px / 4"))
        #expect(try #require(row(result.stdout, "pool5")).contains("too small"), "20 px cannot reach pool5 (needs 32)")
    }

    @Test func badValuesAreUsageErrors() throws {
        for arguments in [["layers", "--size", "0"], ["layers", "--model", "resnet50"]] {
            guard let result = try CLI.run(arguments) else { return }
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(arguments[2] == "0" ? "--size" : "resnet50"), "\(result.stderr)")
        }
    }
}
