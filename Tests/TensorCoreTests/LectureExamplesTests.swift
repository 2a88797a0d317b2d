import Testing
@testable import TensorCore

/// The worked examples of the CNN lecture (/work/shared/reference/cnn-lecture.md), checked exactly.
@Suite struct LectureExamplesTests {
    @Test func laplacianOnFiveByFiveImage() {
        let image = Tensor(shape: [1, 1, 5, 5], storage: [
            0, 10, 9, 3, 4,
            4, 3, 2, 1, 5,
            10, 2, 10, 3, 0,
            3, -1, -3, -3, -4,
            -4, -10, -8, -1, -2,
        ])
        let laplacian = Tensor(shape: [1, 1, 3, 3], storage: [0, 1, 0, 1, -4, 1, 0, 1, 0])
        let y = conv2d(image, weight: laplacian, padding: .valid)
        #expect(y.shape == [1, 1, 3, 3])
        #expect(y.storage == [6, 15, 9, 14, -36, -4, -4, 10, 7])
    }

    @Test func maxPoolTwoByTwo() {
        let x = Tensor(shape: [1, 1, 4, 4], storage: [0, 10, 9, 3, 4, 3, 2, 1, 10, 2, 10, 3, 3, -1, -3, -3])
        let y = maxPool2d(x, kernel: 2, stride: 2)
        #expect(y.shape == [1, 1, 2, 2])
        #expect(y.storage == [10, 9, 10, 10])
    }

    @Test(arguments: [(2, 7), (3, 5), (4, 4)])
    func stridedConvOutputSizes(stride: Int, expected: Int) {
        // 3x3 conv on 16x16, no padding: floor((16 - 3) / stride) + 1.
        let x = Tensor(zeros: [1, 1, 16, 16])
        let w = Tensor(zeros: [1, 1, 3, 3])
        #expect(conv2d(x, weight: w, stride: stride).shape == [1, 1, expected, expected])
    }

    @Test func convTransposeOutputShape() {
        // ConvTranspose2d(128, 32, 3, stride 2) on (4, 128, 10, 8): (10-1)*2 + 3 = 21, (8-1)*2 + 3 = 17.
        let x = Tensor(zeros: [4, 128, 10, 8])
        let w = Tensor(zeros: [128, 32, 3, 3])
        #expect(convTranspose2d(x, weight: w, stride: 2).shape == [4, 32, 21, 17])
    }

    @Test func conv2dOnLargeImageKeepsWeightCount() {
        // Conv2d(3, 6, 5) on (1, 3, 592, 443): 592-4 = 588, 443-4 = 439; 6*3*5*5 = 450 weights.
        let w = Tensor(zeros: [6, 3, 5, 5])
        #expect(w.count == 450)
        #expect(conv2d(Tensor(zeros: [1, 3, 592, 443]), weight: w).shape == [1, 6, 588, 439])
    }

    @Test func samePaddedConvReLUPoolBlock() {
        // Conv2d(3, 16, 5, padding "same") + ReLU + MaxPool2d(2, 2) on (1, 3, 32, 32) -> (1, 16, 16, 16).
        var rng = SeededGenerator(seed: 9)
        let x = Tensor.randomNormal(shape: [1, 3, 32, 32], using: &rng)
        let w = Tensor.randomNormal(shape: [16, 3, 5, 5], using: &rng)
        let y = maxPool2d(conv2dReLU(x, weight: w, padding: .same), kernel: 2, stride: 2)
        #expect(y.shape == [1, 16, 16, 16])
        #expect(y.storage.allSatisfy { $0 >= 0 })
    }
}
