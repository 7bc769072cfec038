import Foundation
import Layers
import Tensor

/// One measurement of a BiGAN run, averaged over the iterations since the one before.
public struct BiganRecord: Codable, Sendable, Equatable {
    public var iteration: Int
    /// The discriminator's loss (binary cross-entropy over real and generated pairs).
    public var discriminatorLoss: Double
    /// The encoder's and generator's loss (the same pairs with the labels swapped).
    public var encoderGeneratorLoss: Double
    /// The mean of D's probability that an encoded real pair (x, E(x)) is real.
    public var realScore: Double
    /// The mean of D's probability that a generated pair (G(z), z) is real.
    public var fakeScore: Double
    public var learningRate: Float
    /// Seconds since the run began, across resumptions.
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case iteration, discriminatorLoss = "d_loss", encoderGeneratorLoss = "ge_loss", realScore = "d_real"
        case fakeScore = "d_fake", learningRate = "lr", seconds
    }
}

/// Where a BiGAN run stands: the three models, both optimisers and the iterations done. A checkpoint holds it
/// whole (``BiganCheckpoint``), so a resumed run continues bit for bit.
public struct BiganState: Sendable {
    public var models: BiganModels
    /// Updates D.
    public var discriminatorOptimizer: any Optimizer
    /// Updates E and G together (E's parameters first).
    public var encoderGeneratorOptimizer: any Optimizer
    public var iteration: Int
    public var history: [BiganRecord]
}

/// BiGAN/ALI pre-training (Donahue, Krähenbühl, Darrell, ICLR 2017; Dumoulin et al., ICLR 2017): the encoder E
/// learns, without labels, to map images to the codes a generator G maps back, because a discriminator D sees
/// (image, code) pairs and tells encoded real pairs from generated ones:
/// ```
/// min_{G,E} max_D  E_x[log D(x, E(x))] + E_z[log(1 − D(G(z), z))],   z ~ N(0, I)
/// ```
/// D ascends this objective; E and G descend its non-saturating form (the labels swapped):
/// ```
/// L_D  = BCE(D(x, E(x)), 1) + BCE(D(G(z), z), 0)
/// L_GE = BCE(D(x, E(x)), 0) + BCE(D(G(z), z), 1)
/// ```
/// Each step computes both gradients at the same point from one forward pass of D (the same dropout masks) and
/// updates the three networks together. Mini-batches follow ``BatchOrder`` and each step's codes and masks come
/// from `(seed, iteration)` alone, so a resumed run repeats the uninterrupted one exactly.
public struct BiganPretraining: Sendable {
    public var configuration: TrainingConfiguration
    public var settings: BiganSettings
    public var quiet = false

    public init(configuration: TrainingConfiguration, settings: BiganSettings = BiganSettings()) {
        self.configuration = configuration
        self.settings = settings
    }

    /// The BiGAN optimiser: Adam (β1 0.5, β2 0.999) at lr 2e-4 held constant, no weight decay, batch 64 — DCGAN's
    /// and ALI's choices (ALI: lr 1e-4, batch 100); a record every 500 and a checkpoint every 1,000 iterations.
    public static func defaultConfiguration(iterations: Int = 20_000, seed: UInt64 = 0) -> TrainingConfiguration {
        TrainingConfiguration(
            optimizer: .adam, learningRate: 2e-4, weightDecay: 0, beta1: 0.5, beta2: 0.999, batchSize: 64,
            iterations: iterations, stepSize: constantRate, evaluateEvery: 500, checkpointEvery: 1_000, seed: seed)
    }

    /// A step size no run reaches: the learning rate stays where it starts.
    public static let constantRate = 1_000_000_000

    /// The state before the first step: fresh G and D, E around `network`'s backbone.
    public func start(_ network: Network) throws -> BiganState {
        try configuration.validate()
        return BiganState(
            models: try BiganModels(network: network, settings: settings, seed: configuration.seed),
            discriminatorOptimizer: configuration.makeOptimizer(),
            encoderGeneratorOptimizer: configuration.makeOptimizer(), iteration: 0, history: [])
    }

    /// Trains from `state.iteration` to `configuration.iterations` on `images` (their targets are ignored), calling
    /// `checkpoint` with the state every `checkpointEvery` iterations and at the end.
    public func train(
        _ state: inout BiganState, on images: some BatchSource, checkpoint: (BiganState) throws -> Void = { _ in }
    ) throws {
        try configuration.validate()
        guard images.count >= 2 else {
            throw GradFeatError.invalidConfiguration(
                "BiGAN pre-training needs at least 2 training images, the data set has \(images.count)")
        }
        var cursor = BatchCursor(
            BatchOrder(count: images.count, batchSize: configuration.batchSize, seed: configuration.seed))
        let prefetcher = BatchPrefetcher(images)
        let progress = ProgressReporter(
            "pretrain bigan", total: configuration.iterations, start: state.iteration, quiet: quiet)
        let clock = Date(), secondsBefore = state.history.last?.seconds ?? 0
        var sums = (d: 0.0, ge: 0.0, real: 0.0, fake: 0.0, count: 0)
        for iteration in state.iteration..<configuration.iterations {
            let indices = cursor.indices(iteration)
            let next = iteration + 1 < configuration.iterations ? cursor.indices(iteration + 1) : nil
            let x = try prefetcher.batch(indices, thenPrefetch: next).inputs
            let rate = configuration.schedule.learningRate(at: iteration)
            state.discriminatorOptimizer.learningRate = rate
            state.encoderGeneratorOptimizer.learningRate = rate
            let step = try Self.step(&state, images: x, iteration: iteration, seed: configuration.seed)
            state.iteration = iteration + 1
            sums = (sums.d + step.d, sums.ge + step.ge, sums.real + step.real, sums.fake + step.fake, sums.count + 1)
            let done = iteration + 1
            progress.update(
                done, values: [("loss_d", step.d), ("loss_ge", step.ge), ("d_real", step.real), ("d_fake", step.fake)],
                itemsPerUnit: Double(x.shape[0]), itemName: "img")
            let recordNow =
                done == configuration.iterations
                || (configuration.evaluateEvery > 0 && done % configuration.evaluateEvery == 0)
            if recordNow, sums.count > 0 {
                let n = Double(sums.count)
                let record = BiganRecord(
                    iteration: done, discriminatorLoss: sums.d / n, encoderGeneratorLoss: sums.ge / n,
                    realScore: sums.real / n, fakeScore: sums.fake / n, learningRate: rate,
                    seconds: secondsBefore + Date().timeIntervalSince(clock))
                state.history.append(record)
                sums = (0, 0, 0, 0, 0)
                progress.log(
                    String(
                        format: "bigan iteration %d: D loss %.4f, G/E loss %.4f, D(x, E(x)) %.3f, D(G(z), z) %.3f",
                        done, record.discriminatorLoss, record.encoderGeneratorLoss, record.realScore,
                        record.fakeScore),
                    event: .evaluation,
                    values: [
                        ("step", Double(done)), ("loss_d", record.discriminatorLoss),
                        ("loss_ge", record.encoderGeneratorLoss), ("d_real", record.realScore),
                        ("d_fake", record.fakeScore),
                    ])
            }
            let checkpointNow =
                done == configuration.iterations
                || (configuration.checkpointEvery > 0 && done % configuration.checkpointEvery == 0)
            if checkpointNow { try checkpoint(state) }
        }
    }

    /// The codes z ~ N(0, I) [n, k] and the dropout seed of step `iteration`, from `(seed, iteration)` alone.
    static func stepRandomness(seed: UInt64, iteration: Int, count n: Int, latentSize k: Int) -> (Tensor, Mode) {
        var rng = SeededRandom(seed: (seed ^ 0xB16A_57E9) &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(iteration + 1))
        let codes = Tensor.normal([n, k], using: &rng)
        return (codes, .training(seed: rng.next()))
    }

    /// One simultaneous update of D, E and G on the real images `x`; returns both losses and D's mean scores.
    public static func step(
        _ state: inout BiganState, images x: Tensor, iteration: Int, seed: UInt64
    ) throws -> (d: Double, ge: Double, real: Double, fake: Double) {
        let n = x.shape[0]
        let k = try state.models.encoder.outputShape(for: x.shape)[1]
        let (z, mode) = stepRandomness(seed: seed, iteration: iteration, count: n, latentSize: k)
        let models = state.models
        do {
            let encoded = try models.encoder.apply(x, tangent: nil, parameterTangent: nil, mode: mode)
            let generated = try models.generator.apply(
                try z.reshaped([n, k, 1, 1]), tangent: nil, parameterTangent: nil, mode: mode)
            let pass = try models.discriminator.apply(
                images: try stackingRows(x, generated.value), codes: try stackingRows(encoded.value, z), mode: mode)

            // Rows 0..<n are real pairs, n..<2n generated ones; D labels them 1 and 0, E and G the other way round.
            let objective = Objective(logits: pass.logits, realCount: n)
            let dGradients = try models.discriminator.vjp(
                pass, logitGradient: objective.discriminatorGradient, needInputGradients: true, mode: mode)
            var dImages: Tensor, dCodes: Tensor
            if let ratios = objective.gradientRatios, let images = dGradients.images, let codes = dGradients.codes {
                (dImages, dCodes) = (images, codes)
                dImages.scaleRows(by: ratios)
                dCodes.scaleRows(by: ratios)
            } else {
                let inputs = try models.discriminator.vjp(
                    pass, logitGradient: objective.encoderGeneratorGradient, needInputGradients: true, mode: mode)
                guard let images = inputs.images, let codes = inputs.codes else {
                    throw TensorError.invalidArgument("D(x, z) returned no input gradients")
                }
                (dImages, dCodes) = (images, codes)
            }
            let eGradients = try models.encoder.vjp(
                encoded.record, outputGradient: dCodes.rows(0..<n), needInputGradient: false, mode: mode)
            let gGradients = try models.generator.vjp(
                generated.record, outputGradient: dImages.rows(n..<(2 * n)), needInputGradient: false, mode: mode)
            let gradients = dGradients.parameters + eGradients.parameters + gGradients.parameters
            guard gradients.allSatisfy(\.isFinite) else { throw TensorError.nonFinite(what: "a gradient") }

            var dParameters = models.discriminator.parameters
            try state.discriminatorOptimizer.update(&dParameters, gradients: dGradients.parameters)
            var geParameters = models.encoder.parameters + models.generator.parameters
            try state.encoderGeneratorOptimizer.update(
                &geParameters, gradients: eGradients.parameters + gGradients.parameters)
            guard dParameters.allSatisfy(\.isFinite), geParameters.allSatisfy(\.isFinite) else {
                throw GradFeatError.diverged(iteration: iteration, detail: "a parameter became NaN or infinite")
            }
            let eCount = models.encoder.parameters.count
            state.models.discriminator.parameters = dParameters
            state.models.encoder.parameters = Array(geParameters[..<eCount])
            state.models.generator.parameters = Array(geParameters[eCount...])
            state.models.encoder.updateStatistics(from: encoded.record)
            state.models.generator.updateStatistics(from: generated.record)

            let (real, fake) = pass.logits.withUnsafeBufferPointer { l in
                let p = l.map { Double(1 / (1 + exp(-$0))) }
                return (p[..<n].reduce(0, +) / Double(n), p[n...].reduce(0, +) / Double(n))
            }
            return (objective.discriminatorLoss, objective.encoderGeneratorLoss, real, fake)
        } catch let error as TensorError {
            if case .nonFinite = error {
                throw GradFeatError.diverged(iteration: iteration, detail: error.description)
            }
            throw error
        }
    }

    /// Both losses at D's logits and their gradients, in forms that stay exact when D is confident.
    struct Objective {
        var discriminatorLoss = 0.0, encoderGeneratorLoss = 0.0
        var discriminatorGradient: Tensor
        var encoderGeneratorGradient: Tensor
        /// `∂L_GE/∂l ÷ ∂L_D/∂l` per row, or nil when a logit is so large that the quotient would leave Float's range.
        var gradientRatios: [Float]?

        /// For `logits` [2n, 1] whose first `realCount` rows are real pairs:
        /// ```
        /// BCE(l, t) = softplus(l) − t·l,   ∂/∂l = σ(l) − t:  −σ(−l) for t = 1,  σ(l) for t = 0
        /// ```
        /// averaged over the 2n rows. D's logit is a scalar per row, so each row's input gradient under L_GE is its
        /// input gradient under L_D times the quotient of the two logit gradients, `−e^{l}` for a real row and
        /// `−e^{−l}` for a generated one: one backward pass through D gives both.
        init(logits: Tensor, realCount n: Int) {
            let l = logits.scalars
            let scale = 1 / Float(l.count)
            func softplus(_ x: Float) -> Double { Double(max(x, 0) + log1p(exp(-abs(x)))) }
            func sigmoid(_ x: Float) -> Float { x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)) }
            var dGradient = [Float](repeating: 0, count: l.count), geGradient = dGradient, ratios = dGradient
            for (i, x) in l.enumerated() {
                let real = i < n
                discriminatorLoss += softplus(x) - (real ? Double(x) : 0)
                encoderGeneratorLoss += softplus(x) - (real ? 0 : Double(x))
                dGradient[i] = (real ? -sigmoid(-x) : sigmoid(x)) * scale
                geGradient[i] = (real ? sigmoid(x) : -sigmoid(-x)) * scale
                ratios[i] = -exp(real ? x : -x)
            }
            discriminatorLoss /= Double(l.count)
            encoderGeneratorLoss /= Double(l.count)
            discriminatorGradient = Tensor(shape: logits.shape) { _ = $0.update(fromContentsOf: dGradient) }
            encoderGeneratorGradient = Tensor(shape: logits.shape) { _ = $0.update(fromContentsOf: geGradient) }
            // Beyond |l| = 30 D's input gradient under L_D falls towards Float's smallest numbers: take a second pass.
            gradientRatios = l.allSatisfy { abs($0) <= 30 } ? ratios : nil
        }
    }

    /// `a` over `b` along the first dimension.
    static func stackingRows(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        var dimensions = a.shape.dimensions
        dimensions[0] += b.shape[0]
        return try Tensor(shape: Shape(dimensions), scalars: a.scalars + b.scalars)
    }
}
