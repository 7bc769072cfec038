import Datasets
import Foundation
import HDF5
import Layers
import Tensor
import TestSupport
import Testing

@testable import GradFeat

/// BiGAN/ALI pre-training: D(x, z)'s gradients, the one-backward objective, exact resume, refusals, sample grids.
@Suite struct BiganTests {
    /// A narrow BiGAN: latent 6, every width divided by 8.
    static let settings = BiganSettings(latentSize: 6, generatorWidthDivisor: 8, discriminatorWidthDivisor: 8)

    static func images(_ n: Int, seed: UInt64) -> Tensor {
        var rng = SeededRandom(seed: seed)
        return Tensor.uniform([n, 3, 32, 32], low: 0, high: 1, using: &rng)
    }

    static func network() -> Network { BiganCIFAR.make(classes: 10, widthDivisor: 8, seed: 1) }

    /// D's gradients (parameters, images and codes at once, dropout on with fixed masks) against central
    /// differences along a direction that leans on the gradient, so the directional derivative stands well
    /// above Float's rounding in a network this deep.
    @Test(arguments: [Mode.training(seed: 11), Mode.evaluation])
    func discriminatorGradientsMatchFiniteDifferences(mode: Mode) throws {
        let d = try JointDiscriminator(imageShape: [3, 32, 32], settings: Self.settings, seed: 4)
        var rng = SeededRandom(seed: 9)
        let x = Self.images(3, seed: 2), z = randomTensor([3, 6], &rng)
        let u = randomTensor([3, 1], &rng)
        let pass = try d.apply(images: x, codes: z, mode: mode)
        let gradients = try d.vjp(pass, logitGradient: u, needInputGradients: true, mode: mode)
        let blocks = try [#require(gradients.images), #require(gradients.codes)] + gradients.parameters
        // Each block's direction: its gradient plus a random part of half its norm, then all scaled to unit norm.
        var direction = try blocks.map { g in
            var r = randomTensor(g.shape, &rng)
            let norms = (g: try g.dot(g).squareRoot(), r: try r.dot(r).squareRoot())
            r.scale(by: Float(0.5 * norms.g / max(norms.r, 1e-30)))
            try r.add(g)
            return r
        }
        let norm = try direction.map { try $0.dot($0) }.reduce(0, +).squareRoot()
        for i in direction.indices { direction[i].scale(by: Float(1 / norm)) }
        let analytic = try zip(blocks, direction).map { try $0.dot($1) }.reduce(0, +)

        /// ⟨u, D(x + s·v, z + s·w; θ + s·p)⟩ for the direction (v, w, p).
        func objective(_ step: Float) throws -> Double {
            func moved(_ t: Tensor, _ i: Int) throws -> Tensor {
                var t = t
                try t.add(direction[i], scaledBy: step)
                return t
            }
            var shifted = d
            shifted.parameters = try d.parameters.enumerated().map { try moved($1, $0 + 2) }
            return try u.dot(try shifted.apply(images: moved(x, 0), codes: moved(z, 1), mode: mode).logits)
        }
        let error = try [1e-2, 3e-3, 1e-3, 3e-4].map { (epsilon: Float) in
            relativeError(analytic, (try objective(epsilon) - objective(-epsilon)) / (2 * Double(epsilon)), floor: 1e-6)
        }.min()!
        #expect(error < 1e-3)
    }

    @Test func columnsConcatenateAndSplitBack() throws {
        var rng = SeededRandom(seed: 1)
        let a = randomTensor([4, 3], &rng), b = randomTensor([4, 5], &rng)
        let joined = try JointDiscriminator.concatenatingColumns(a, b)
        #expect(joined.shape == [4, 8])
        #expect(joined.scalars[8..<11] == a.scalars[3..<6])
        #expect(joined.scalars[11..<16] == b.scalars[5..<10])
        let (left, right) = JointDiscriminator.splittingColumns(joined, at: 3)
        #expect(left == a && right == b)
    }

    @Test func objectiveMatchesItsDefinitionAndItsQuotients() throws {
        let logits: [Float] = [-25, -3, 0.5, 7, 24, -0.2]
        let objective = BiganPretraining.Objective(
            logits: try Tensor(shape: [6, 1], scalars: logits), realCount: 3)
        func bce(_ l: Double, _ t: Double) -> Double { -(t * log(1 / (1 + exp(-l))) + (1 - t) * log(1 / (1 + exp(l)))) }
        let expectedD = logits.enumerated().map { bce(Double($1), $0 < 3 ? 1 : 0) }.reduce(0, +) / 6
        let expectedGE = logits.enumerated().map { bce(Double($1), $0 < 3 ? 0 : 1) }.reduce(0, +) / 6
        #expect(relativeError(objective.discriminatorLoss, expectedD) < 1e-6)
        #expect(relativeError(objective.encoderGeneratorLoss, expectedGE) < 1e-6)
        let ratios = try #require(objective.gradientRatios)
        for i in 0..<6 {
            let scaled = Double(objective.discriminatorGradient.scalars[i] * ratios[i])
            #expect(relativeError(scaled, Double(objective.encoderGeneratorGradient.scalars[i])) < 1e-5)
        }
        let confident = BiganPretraining.Objective(logits: try Tensor(shape: [2, 1], scalars: [40, -1]), realCount: 1)
        #expect(confident.gradientRatios == nil)
    }

    /// The one-backward trick (D's input gradients under L_D, rescaled per row) gives what a second backward pass
    /// under L_GE gives, dropout masks included.
    @Test func oneBackwardPassGivesTheEncoderAndGeneratorGradients() throws {
        let d = try JointDiscriminator(imageShape: [3, 32, 32], settings: Self.settings, seed: 5)
        var rng = SeededRandom(seed: 3)
        let x = Self.images(8, seed: 4), z = randomTensor([8, 6], &rng)
        let mode = Mode.training(seed: 21)
        let pass = try d.apply(images: x, codes: z, mode: mode)
        let objective = BiganPretraining.Objective(logits: pass.logits, realCount: 4)
        let first = try d.vjp(
            pass, logitGradient: objective.discriminatorGradient, needInputGradients: true, mode: mode)
        let second = try d.vjp(
            pass, logitGradient: objective.encoderGeneratorGradient, needInputGradients: true, mode: mode)
        var (images, codes) = (try #require(first.images), try #require(first.codes))
        let ratios = try #require(objective.gradientRatios)
        images.scaleRows(by: ratios)
        codes.scaleRows(by: ratios)
        #expect(relativeError(images, try #require(second.images)) < 1e-5)
        #expect(relativeError(codes, try #require(second.codes)) < 1e-5)
    }

    /// Runs `iterations` of a narrow BiGAN on 12 random images into `folder`.
    static func run(
        _ iterations: Int, in folder: URL, resume: Bool = false, learningRate: Float = 2e-4,
        settings: BiganSettings = settings
    ) throws -> BiganState {
        var configuration = BiganPretraining.defaultConfiguration(iterations: iterations, seed: 7)
        configuration.batchSize = 4
        configuration.learningRate = learningRate
        (configuration.evaluateEvery, configuration.checkpointEvery) = (3, 3)
        let data = try InMemoryBatches(
            inputs: images(12, seed: 8), targets: .classes((0..<12).map { $0 % 2 }), classCount: 2)
        return try Pretraining.bigan(
            network(), images: data, configuration: configuration, settings: settings,
            files: BiganFiles(weights: folder.appendingPathComponent("enc.h5")), resume: resume, quiet: true
        ).state
    }

    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bigan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func resumedRunRepeatsTheUninterruptedOneAndWritesItsFiles() throws {
        let (a, b) = (try Self.temporaryFolder(), try Self.temporaryFolder())
        defer { for url in [a, b] { try? FileManager.default.removeItem(at: url) } }
        let straight = try Self.run(6, in: a)
        let first = try Self.run(3, in: b)
        let resumed = try Self.run(6, in: b, resume: true)
        #expect(first.iteration == 3 && resumed.iteration == 6)
        #expect(resumed.models.encoder.parameters == straight.models.encoder.parameters)
        #expect(resumed.models.encoder.buffers == straight.models.encoder.buffers)
        #expect(resumed.models.generator.parameters == straight.models.generator.parameters)
        #expect(resumed.models.generator.buffers == straight.models.generator.buffers)
        #expect(resumed.models.discriminator.parameters == straight.models.discriminator.parameters)
        #expect(resumed.discriminatorOptimizer.state == straight.discriminatorOptimizer.state)
        #expect(resumed.history.map(\.discriminatorLoss) == straight.history.map(\.discriminatorLoss))
        #expect(straight.history.map(\.iteration) == [3, 6])
        // The run moved: its parameters are not the initial ones.
        let fresh = try BiganModels(network: Self.network(), settings: Self.settings, seed: 7)
        #expect(fresh.generator.parameters != straight.models.generator.parameters)

        let files = BiganFiles(weights: b.appendingPathComponent("enc.h5"))
        for url in [files.checkpoint, files.samples(at: 3), files.samples(at: 6), files.lossTable, files.lossPlot] {
            #expect(FileManager.default.fileExists(atPath: url.path), "\(url.lastPathComponent) missing")
        }
        // 8 columns of 32-pixel tiles with 2-pixel gaps; 8 rows of G(z), 4 rows of real/reconstruction pairs.
        let png = try Data(contentsOf: files.samples(at: 6))
        let be32 = { (offset: Int) in png[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) } }
        #expect(png.prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]))
        #expect(be32(16) == 8 * 34 + 2 && be32(20) == 12 * 34 + 2)
        let csv = try String(contentsOf: files.lossTable, encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 3 && csv[0].hasPrefix("iteration,d_loss,ge_loss"))
    }

    @Test func checkpointsAreNeitherOverwrittenNorContinuedByAnotherRun() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try Self.run(3, in: folder)
        let before = try Data(contentsOf: BiganFiles(weights: folder.appendingPathComponent("enc.h5")).checkpoint)
        #expect(throws: GradFeatError.self) { try Self.run(6, in: folder) } // no --resume
        #expect(throws: GradFeatError.self) { try Self.run(6, in: folder, resume: true, learningRate: 1e-3) }
        var wider = Self.settings
        wider.latentSize = 8
        #expect(throws: GradFeatError.self) { try Self.run(6, in: folder, resume: true, settings: wider) }
        #expect(throws: GradFeatError.self) { try Self.run(2, in: folder, resume: true) } // past its niter
        let after = try Data(contentsOf: BiganFiles(weights: folder.appendingPathComponent("enc.h5")).checkpoint)
        #expect(before == after)
    }

    /// `pretrain: bigan` in an experiment: the run folder holds the BiGAN's files; `resume` continues its checkpoint
    /// (here to a longer run), a fresh run replaces it.
    @Test func anExperimentPretrainsResumesAndReplacesItsBigan() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var rng = SeededRandom(seed: 5)
        let pixels = (0..<(24 * 3 * 32 * 32)).map { _ in UInt8(rng.next() % 256) }
        let set = ImageSet(
            images: pixels, count: 24, channels: 3, height: 32, width: 32,
            labels: .single((0..<24).map { Int64($0 % 2) }), classNames: ["a", "b"], source: "/synthetic",
            split: "train")
        let dataset = folder.appendingPathComponent("images.h5")
        try DatasetCache.write(set, to: dataset)
        let run = folder.appendingPathComponent("run")
        func experiment(pretrainIterations: Int, resume: Bool) throws -> Int {
            var training = TrainingConfiguration.paper(iterations: 4, seed: 3)
            training.batchSize = 8
            let spec = ExperimentSpec(
                data: DataSpec(dataset: dataset.path, testFraction: 0.25), model: BiganCIFAR.smallName,
                split: "conv5", linearize: ["conv5"], extractors: [ExtractorSpec("activation")], pretrain: .bigan,
                pretrainIterations: pretrainIterations, pretrainBatchSize: 4, training: training, output: run.path,
                resume: resume)
            _ = try Experiment(spec, quiet: true).run()
            let files = BiganFiles(weights: run.appendingPathComponent("weights.h5"))
            let checkpoint = try HDF5File(url: files.checkpoint, mode: .readOnly)
            return try checkpoint.attribute("iteration")
        }
        let files = BiganFiles(weights: run.appendingPathComponent("weights.h5"))
        #expect(try experiment(pretrainIterations: 2, resume: false) == 2)
        #expect(FileManager.default.fileExists(atPath: files.samples(at: 2).path))
        // As if stopped in pre-training: no model yet, and the BiGAN is continued to a longer run.
        try FileManager.default.removeItem(at: run.appendingPathComponent("activation.h5"))
        #expect(try experiment(pretrainIterations: 3, resume: true) == 3)
        let history = try String(contentsOf: files.lossTable, encoding: .utf8).split(separator: "\n")
        #expect(history.map { $0.prefix(2) } == ["it", "2,", "3,"]) // continued, not restarted
        #expect(try experiment(pretrainIterations: 2, resume: false) == 2) // a fresh run starts again
    }

    @Test func refusesImagesItCannotGenerate() throws {
        let grey = BiganCIFAR.make(classes: 10, inputChannels: 1, inputSize: 28, widthDivisor: 8, seed: 1)
        #expect(throws: GradFeatError.self) { try BiganModels(network: grey, settings: Self.settings, seed: 1) }
        var bad = Self.settings
        bad.generatorWidthDivisor = 3
        #expect(throws: GradFeatError.self) { try BiganModels(network: Self.network(), settings: bad, seed: 1) }
    }

    @Test func trainedEncoderBecomesTheNetworksBackbone() throws {
        let models = try BiganModels(network: Self.network(), settings: Self.settings, seed: 2)
        let network = try models.network(like: Self.network())
        let x = Self.images(2, seed: 5)
        #expect(relativeError(try network.logits(x), try models.encode(x)) < 1e-6)
        #expect(
            try models.generate(try Tensor(shape: [2, 6], scalars: Array(repeating: 0.5, count: 12))).shape
                == [2, 3, 32, 32])
    }

    @Test func paperFullPresetIsThePapersSchedule() throws {
        let full = try TrainingConfiguration.preset(TrainingConfiguration.paperFull, iterations: 5_000, seed: 3)
        #expect(full.iterations == 80_000 && full.stepSize == 20_000 && full.stepFactor == 0.5)
        #expect(full.learningRate == 1e-3 && full.batchSize == 64 && full.seed == 3)
        #expect(full.evaluateEvery == 2_000 && full.checkpointEvery == 2_000)
        #expect(try TrainingConfiguration.preset("paper", iterations: 5_000).iterations == 5_000)
    }
}
