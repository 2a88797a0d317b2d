@testable import Experiments
import Foundation
import Testing
import Visualization

/// The plan's wall-time estimate and the run's work model.
@Suite(.serialized) struct ExperimentEstimateTests {
    @Test func multiplyAddsPerPixelAreCountedByHand() throws {
        let net = Pretrained.vgg16
        // conv1_1: 3 -> 64, 3x3 at full resolution; conv1_2: 64 -> 64; conv2_1 after a 2x2 pool: a quarter per pixel.
        let conv11 = 3.0 * 64 * 9, conv12 = 64.0 * 64 * 9, conv21 = 64.0 * 128 * 9 / 4
        #expect(WorkModel.macsPerPixel(net, through: try net.layer("conv1_1")) == conv11)
        #expect(WorkModel.macsPerPixel(net, through: try net.layer("relu1_2")) == conv11 + conv12)
        #expect(WorkModel.macsPerPixel(net, through: try net.layer("conv2_1")) == conv11 + conv12 + conv21)
    }

    @Test func unitSecondsScaleTheCalibratedStepsByTheRealOnes() throws {
        let plan = try ExperimentRunTests.plan()
        var estimate = ExperimentEstimate(plan: plan)
        // keras2016 at the pinned overrides: one stage of 4 steps.
        estimate.filterCosts[ExperimentEstimate.key(layer: "conv2_1", preset: "keras2016", batch: 1)] = .init(batch: 1, fixed: 0.5, perStep: [0.25])
        estimate.photoSeconds["conv2_1"] = 0.1
        estimate.featureMapSeconds["block1_conv2"] = 0.3
        let filterUnit = try #require(plan.units.first { if case .filters = $0 { true } else { false } })
        #expect(abs(estimate.seconds(filterUnit) - (0.5 + 4 * 0.25)) < 1e-12)
        let patchUnit = try #require(plan.units.first { if case .patches = $0 { true } else { false } })
        #expect(abs(estimate.seconds(patchUnit) - 0.2) < 1e-12)  // 2 photos per unit
        // 7 units over 2 shards: positions 0, 2, 4, 6 and 1, 3, 5; the sums add up to the whole.
        let shards = estimate.shardSeconds(count: 2)
        let whole = plan.units.reduce(0) { $0 + estimate.seconds($1) }
        #expect(abs(shards.reduce(0, +) - whole) < 1e-9)
        #expect(abs(whole - (4 * 1.5 + 0.2 + 0.1 + 0.3)) < 1e-9)  // 3 photos: parts of 2 and 1
    }

    @Test func calibrationMeasuresEveryKindOfUnitAndPredictsTheRunRoughly() throws {
        let plan = try ExperimentRunTests.plan()
        let estimate = try ExperimentEstimate.calibrate(plan)
        #expect(estimate.filterCosts.count == 1 && estimate.photoSeconds.count == 1 && estimate.featureMapSeconds.count == 1)
        #expect(estimate.measurements.count == 3)
        for unit in plan.units { #expect(estimate.seconds(unit) > 0, "\(unit.id)") }
        // Against a real run of the same units (timing files): the same order of magnitude, even on a busy machine.
        let dir = try ExperimentRunTests.freshFolder("estimate")
        try ExperimentRunTests.run(into: dir)
        let store = ExperimentStore(root: dir)
        let measured = plan.units.compactMap { store.timing($0)?.seconds }.reduce(0, +)
        let predicted = plan.units.reduce(0) { $0 + estimate.seconds($1) }
        #expect(predicted > measured / 5 && predicted < measured * 5, "predicted \(predicted) s, measured \(measured) s")
    }
}
