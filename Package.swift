// swift-tools-version:6.0
// filtervis: what the filters of convolutional networks respond to, natively in Swift.
//
// Release builds must target the host's vector unit (see Makefile: TARGET_CPU); the package itself
// carries no machine-specific flags so that `swift build` stays portable.
import PackageDescription

let package = Package(
    name: "filtervis",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "filtervis", targets: ["filtervis"]),
        .library(name: "FilterVis", targets: ["ImageIO", "TensorCore", "Models", "Checkpoints", "Visualization", "Experiments"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // MARK: C interop: the system libraries, and the one C target that owns every setjmp/longjmp.
        .systemLibrary(name: "CLibPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CLibJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg-dev"])]),
        .target(name: "CImageCodecs", dependencies: ["CLibPNG", "CLibJPEG"]),

        // MARK: Libraries
        // Whole-file atomic writes, output folders replaced as a whole, and the one JSON convention (OutputJSON).
        .target(name: "FileOutput"),
        .target(name: "ImageIO", dependencies: ["CImageCodecs", "TensorCore", "FileOutput"]),
        // The kernels stay in the Swift 5 language mode: they share buffers across threads by design (every parallel
        // loop split by output, so no two threads write one place), which strict concurrency cannot express.
        .target(name: "TensorCore", swiftSettings: [.swiftLanguageMode(.v5)]),
        .target(name: "Checkpoints", dependencies: ["FileOutput"]),
        .target(name: "Models", dependencies: ["TensorCore", "Checkpoints", "ImageIO"]),
        // The engine: objectives, parametrisations, transforms, the render loop, presets, the patch search. It reads
        // photos (through ImageIO) but writes no files.
        .target(name: "Visualization", dependencies: ["TensorCore", "Models", "ImageIO", "Checkpoints"]),
        // Every result on disk: the one writer and record types of visualize/patches/card, experiment configs,
        // plans, units, runner, store, assembly and the HTML report.
        .target(name: "Experiments", dependencies: ["Visualization", "TensorCore", "Models", "ImageIO", "Checkpoints", "FileOutput"]),

        // MARK: The command-line tool: thin, it parses options, calls the libraries and prints progress.
        .executableTarget(name: "filtervis", dependencies: [
            "ImageIO", "TensorCore", "Models", "Checkpoints", "Visualization", "Experiments", "FileOutput",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], plugins: ["EmbedFetchScript"]),
        // Carries Scripts/fetch-weights.sh into the binary at build time (one source for the script).
        .plugin(name: "EmbedFetchScript", capability: .buildTool()),

        // MARK: `make bench`: our kernels and pipelines timed next to the peers' (Scripts/bench-*.py).
        .executableTarget(name: "filtervis-bench", dependencies: [
            "ImageIO", "TensorCore", "Models", "Checkpoints", "Visualization",
        ]),

        // MARK: Fuzzing (issue 18): each parser's contract on any bytes, replayed by FuzzRegressionTests;
        // Scripts/fuzz.sh builds filtervis-fuzz with libFuzzer (-DFUZZING), the plain build replays files.
        .target(name: "FuzzTargets", dependencies: ["Checkpoints", "ImageIO", "Models", "Visualization", "Experiments"],
                path: "Fuzz/Sources/FuzzTargets"),
        .executableTarget(name: "filtervis-fuzz", dependencies: ["FuzzTargets", "Checkpoints"], path: "Fuzz/Sources/filtervis-fuzz"),

        // MARK: Tests: one target per library target, plus the CLI's and the fuzz regression replay.
        // TestSupport: the committed reference fixtures' format and the finite-difference gradient check.
        .target(name: "TestSupport", dependencies: ["TensorCore"], path: "Tests/TestSupport"),
        .testTarget(name: "ImageIOTests", dependencies: ["ImageIO", "TensorCore"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "CheckpointsTests", dependencies: ["Checkpoints"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "TensorCore", "Checkpoints", "ImageIO", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "VisualizationTests", dependencies: ["Visualization", "Models", "TensorCore", "ImageIO", "Checkpoints", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "Visualization", "Models", "TensorCore", "ImageIO", "Checkpoints", "FileOutput"]),
        // CLITests depend on the executable so that building the tests builds the binary they run.
        .testTarget(name: "CLITests", dependencies: ["ImageIO", "Checkpoints", "TensorCore", "Models", "Visualization", "Experiments", "FileOutput", "filtervis"]),
        .testTarget(name: "FuzzRegressionTests", dependencies: ["FuzzTargets"]),
    ],
    // Swift 6 language mode (strict concurrency) for every target but TensorCore's kernels.
    swiftLanguageModes: [.v6]
)
