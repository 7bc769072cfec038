import Foundation
import GradFeat
import Layers
import Tensor
import Testing

/// Test-time crops: the ten views are torchvision's TenCrop, random views are seeded, and predictions are averaged
/// as probabilities.
@Suite struct TestCropsTests {
    /// One 2-channel 5×6 image whose pixels are their own indices.
    static let image = try! ImageBatches(
        pixels: (0..<60).map { UInt8($0) }, imageShape: [2, 5, 6], targets: .classes([0]), classCount: 1,
        scaling: InputScaling(mean: [0, 0], std: [1, 1]))

    /// torchvision's `five_crop` of a [C, H, W] image held as nested arrays, written out independently.
    static func fiveCrop(_ planes: [[[UInt8]]], _ c: Int) -> [[[[UInt8]]]] {
        let (h, w) = (planes[0].count, planes[0][0].count)
        func crop(_ top: Int, _ left: Int) -> [[[UInt8]]] {
            planes.map { plane in (top..<(top + c)).map { Array(plane[$0][left..<(left + c)]) } }
        }
        let centreTop = Int((Double(h - c) / 2).rounded(.toNearestOrEven))
        let centreLeft = Int((Double(w - c) / 2).rounded(.toNearestOrEven))
        return [crop(0, 0), crop(0, w - c), crop(h - c, 0), crop(h - c, w - c), crop(centreTop, centreLeft)]
    }

    @Test func tenViewsAreTorchvisionsTenCrop() throws {
        let planes: [[[UInt8]]] = (0..<2).map { c in (0..<5).map { y in (0..<6).map { x in UInt8(c * 30 + y * 6 + x) } }
        }
        let mirrored = planes.map { $0.map { Array($0.reversed()) } }
        let expected = Self.fiveCrop(planes, 3) + Self.fiveCrop(mirrored, 3)
        for view in 0..<10 {
            let got = Self.image.cropped(.ten, view: view, side: 3, seed: 0)
            #expect(got.imageShape == [2, 3, 3])
            #expect(got.pixels == expected[view].flatMap { $0.flatMap { $0 } }, "view \(view)")
        }
        #expect(Self.image.centreCropped(to: 3).pixels == expected[4].flatMap { $0.flatMap { $0 } })
    }

    @Test func randomViewsAreSeededCropsInsideTheImage() throws {
        let crops = try TestCrops(parsing: "random:4")
        #expect(crops == .random(count: 4) && crops.viewCount == 4 && crops.description == "random:4")
        var placements = Set<[Int]>()
        for view in 0..<4 {
            for image in 0..<50 {
                let p = crops.placement(view: view, image: image, height: 40, width: 36, crop: 35, seed: 9)
                #expect((0...5).contains(p.top) && (0...1).contains(p.left))
                #expect(p == crops.placement(view: view, image: image, height: 40, width: 36, crop: 35, seed: 9))
                placements.insert([p.top, p.left, p.mirrored ? 1 : 0])
            }
        }
        #expect(placements.count > 12, "random views barely vary: \(placements)")
        for bad in ["eleven", "random:0", "random:101", "random:"] {
            #expect(throws: GradFeatError.self) { _ = try TestCrops(parsing: bad) }
        }
        #expect(TestCrops.cropSide(for: 256) == 224)
    }

    @Test func viewsAverageProbabilitiesNotLogits() throws {
        let network = GradFeatModelTests.smallNetwork(seed: 1)
        let extractor = try ActivationFeatures(network: network, splitAt: "block", classes: 3, seed: 2)
        let labels = Targets.classes([0, 1, 2, 1, 0, 2])
        func view(_ seed: UInt64) throws -> InMemoryBatches {
            try InMemoryBatches(
                inputs: try ActivationCache.compute(
                    network: network, splitAt: "block",
                    data: try InMemoryBatches(
                        inputs: GradFeatModelTests.input(6, seed: seed), targets: labels, classCount: 3),
                    quiet: true
                ).inputs,
                targets: labels, classCount: 3)
        }
        let (a, b) = (try view(4), try view(5))
        let evaluator = Evaluator()
        // One view: the usual metrics and cross-entropy.
        let single = try evaluator.evaluate(extractor, on: a, loss: SoftmaxCrossEntropy())
        let once = try evaluator.evaluate(extractor, views: [a])
        #expect(once.accuracy == single.accuracy)
        #expect(abs((once.loss ?? .nan) - (single.loss ?? .nan)) < 1e-5)
        // Two views: the mean of the softmax probabilities, by hand.
        func softmax(_ row: ArraySlice<Float>) -> [Double] {
            let e = row.map { exp(Double($0) - Double(row.max()!)) }
            return e.map { $0 / e.reduce(0, +) }
        }
        let (za, zb) = (try evaluator.logits(extractor, on: a).scalars, try evaluator.logits(extractor, on: b).scalars)
        var correct = 0, loss = 0.0
        for (i, label) in [0, 1, 2, 1, 0, 2].enumerated() {
            let p = zip(softmax(za[(3 * i)..<(3 * i + 3)]), softmax(zb[(3 * i)..<(3 * i + 3)])).map { ($0 + $1) / 2 }
            if p.firstIndex(of: p.max()!) == label { correct += 1 }
            loss -= log(p[label])
        }
        let twice = try evaluator.evaluate(extractor, views: [a, b])
        #expect(twice.accuracy == Double(correct) / 6)
        #expect(abs((twice.loss ?? .nan) - loss / 6) < 1e-6)
    }
}
