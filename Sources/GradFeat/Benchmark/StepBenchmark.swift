import Foundation
import Layers
import Tensor

/// Training-step throughput of the GradFeat models, shared by `gradfeat bench` and `Benchmarks/StepBench`.
///
/// Each row times one thing on random data of the real shapes: the frozen bottom's forward pass (feature
/// extraction), or one SGD step (momentum 0.9, weight decay 5e-5, softmax cross-entropy) of the activation,
/// gradient, full GradFeat or fine-tuning model — from cached activations `z0` (`cached=true`) or from images, in
/// which case the step includes the frozen bottom's forward pass. The step is `Trainer.step`, the one the trainer
/// runs. FLOPs are counted from the layer geometries (2 per multiply–add of the convolutions and dense layers; the
/// element-wise work is not counted), so `gflops` is comparable with the sgemm rate measured in the same process.
public enum StepBenchmark {
    public enum Kind: String, Sendable, CaseIterable {
        case bottom, activation, gradient, full, finetune
    }

    /// One configuration to time.
    public struct Row: Sendable, Equatable {
        public var model: String
        /// The first θ2 layer: `z0` is its input.
        public var split: String
        /// θ2, the linearized (or fine-tuned) layers.
        public var linearize: [String]
        /// How θ2 is named in the output ("conv5", "conv4-5", "layer4.1").
        public var theta2: String
        public var kind: Kind
        public var cached: Bool
        public var batch: Int
        public var inputSize: Int
        public var classes: Int

        /// A stable identifier, the argument of `--row`.
        public var id: String { "\(model)/\(theta2)/\(kind.rawValue)/\(cached ? "cached" : "images")" }

        /// What the row's line starts with.
        public var fields: String {
            "model=\(model) theta2=\(theta2) mode=\(kind.rawValue) cached=\(cached) batch=\(batch)"
                + (inputSize == 32 ? "" : " input=\(inputSize)")
        }
    }

    /// The issue's rows: bigan-cifar (θ2 = conv5, and conv4-5) at batch 128, ResNet18 at 112×112 (θ2 = layer4.1)
    /// at batch 32; for each, the bottom forward pass and the four steps from cached activations and from images.
    public static let rows: [Row] = {
        let configurations:
            [(
                model: String, split: String, linearize: [String], theta2: String, batch: Int,
                input: Int, classes: Int
            )] = [
                (BiganCIFAR.name, "conv5", ["conv5"], "conv5", 128, 32, 10),
                (BiganCIFAR.name, "conv4", ["conv4", "conv5"], "conv4-5", 128, 32, 10),
                (ResNet.Depth.resnet18.name, "layer4.1", ["layer4.1"], "layer4.1", 32, 112, 20),
            ]
        var rows: [Row] = []
        for c in configurations {
            func row(_ kind: Kind, _ cached: Bool) -> Row {
                Row(
                    model: c.model, split: c.split, linearize: c.linearize, theta2: c.theta2, kind: kind,
                    cached: cached, batch: c.batch, inputSize: c.input, classes: c.classes)
            }
            rows.append(row(.bottom, false))
            for cached in [true, false] {
                for kind in [Kind.activation, .gradient, .full, .finetune] { rows.append(row(kind, cached)) }
            }
        }
        return rows
    }()

    public static func row(_ id: String) throws -> Row {
        guard let row = rows.first(where: { $0.id == id }) else {
            throw GradFeatError.invalidConfiguration(
                "no benchmark row '\(id)'; rows are: \(rows.map(\.id).joined(separator: ", "))")
        }
        return row
    }

    /// What one row measured.
    public struct Result: Sendable {
        public var row: Row
        /// The median time of one step (or forward pass).
        public var seconds: Double
        public var steps: Int
        public var flopsPerImage: Double
        /// The process's peak resident memory (VmHWM), and its growth over the resident memory before the row.
        public var peakMB: Double
        public var deltaMB: Double

        public var imagesPerSecond: Double { Double(row.batch) / seconds }
        public var gflops: Double { flopsPerImage * Double(row.batch) / seconds / 1e9 }

        /// One machine-readable line.
        public var line: String {
            "BENCH \(row.fields) img_per_s=\(String(format: "%.0f", imagesPerSecond)) "
                + "gflops=\(String(format: "%.1f", gflops)) peak_mb=\(String(format: "%.0f", peakMB)) "
                + "delta_mb=\(String(format: "%.0f", deltaMB)) mflop_per_img=\(String(format: "%.2f", flopsPerImage / 1e6)) "
                + "step_ms=\(String(format: "%.2f", seconds * 1e3)) steps=\(steps)"
        }
    }

    // MARK: - Measuring

    /// Times `row` in this process: warm-up steps, then steps until `minSeconds` have passed (at least `minSteps`);
    /// the median step time. Run one row per process for a per-row peak memory (`runAll` does).
    public static func measure(_ row: Row, minSeconds: Double = 2, minSteps: Int = 5, warmup: Int = 2) throws -> Result
    {
        let residentBefore = memoryMB("VmRSS")
        var network = try ModelZoo.make(row.model, classes: row.classes, inputSize: row.inputSize, seed: 1)
        network = try network.foldingBatchNorm()
        let bottom = try network.bottom(splitAt: row.split)
        var rng = SeededRandom(seed: 2)
        let images = Tensor.uniform(
            Shape([row.batch] + network.inputShape.dimensions), low: 0, high: 1, using: &rng)
        let z0 = try bottom.forward(images)
        let targets = Targets.classes((0..<row.batch).map { $0 % row.classes })
        let flops = try flopsPerImage(row, network: network, bottom: bottom, z0Shape: z0.shape)

        let body: () throws -> Void
        switch row.kind {
        case .bottom:
            body = { _ = try bottom.forward(images) }
        case .activation, .gradient, .full, .finetune:
            var extractor = try makeExtractor(row, network: network)
            var optimizer: any Optimizer = SGD(learningRate: 0.01, momentum: 0.9, weightDecay: 5e-5)
            let loss = SoftmaxCrossEntropy()
            var iteration = 0
            body = {
                let inputs = row.cached ? z0 : try bottom.forward(images)
                _ = try Trainer.step(
                    &extractor, inputs: inputs, targets: targets, loss: loss, optimizer: &optimizer, clipNorm: nil,
                    mode: .training(seed: UInt64(iteration)), iteration: iteration)
                iteration += 1
            }
        }
        let (seconds, steps) = try medianSeconds(minSeconds: minSeconds, minSteps: minSteps, warmup: warmup, body)
        let peak = memoryMB("VmHWM")
        return Result(
            row: row, seconds: seconds, steps: steps, flopsPerImage: flops,
            peakMB: peak, deltaMB: max(0, peak - residentBefore))
    }

    /// The median time of `body` after `warmup` untimed calls, over at least `minSteps` calls and `minSeconds`.
    public static func medianSeconds(
        minSeconds: Double = 2, minSteps: Int = 5, warmup: Int = 2, _ body: () throws -> Void
    ) rethrows -> (seconds: Double, steps: Int) {
        for _ in 0..<warmup { try body() }
        var times: [Double] = []
        let start = DispatchTime.now().uptimeNanoseconds
        while times.count < minSteps || Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 < minSeconds {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        return (times.sorted()[times.count / 2], times.count)
    }

    static func makeExtractor(_ row: Row, network: Network) throws -> any FeatureExtractor {
        switch row.kind {
        case .activation:
            return try ActivationFeatures(network: network, splitAt: row.split, classes: row.classes, seed: 3)
        case .gradient:
            return try GradientFeatures(
                network: network, splitAt: row.split, linearize: row.linearize, omegaBar: network.head)
        case .full:
            return try GradFeatFeatures(
                network: network, splitAt: row.split, linearize: row.linearize, omegaBar: network.head)
        case .finetune:
            return try FineTuning(network: network, splitAt: row.split, linearize: row.linearize, head: network.head)
        case .bottom:
            throw GradFeatError.invalidConfiguration("the bottom row trains no extractor")
        }
    }

    /// The sgemm rate (GFLOP/s) of a square product of `size`, median of `repetitions` after a warm-up.
    public static func sgemmGFLOPs(size: Int = 2048, repetitions: Int = 5) -> Double {
        var rng = SeededRandom(seed: 9)
        let a = Tensor.uniform([size, size], low: -1, high: 1, using: &rng)
        let b = Tensor.uniform([size, size], low: -1, high: 1, using: &rng)
        var c = Tensor.zeros([size, size])
        var times: [Double] = []
        for i in 0...repetitions {
            let t0 = DispatchTime.now().uptimeNanoseconds
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    c.withUnsafeMutableBufferPointer { cp in
                        BLAS.gemm(
                            m: size, n: size, k: size, a: ap.baseAddress!, lda: size, b: bp.baseAddress!,
                            ldb: size, c: cp.baseAddress!, ldc: size)
                    }
                }
            }
            if i > 0 { times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9) }
        }
        return 2 * Double(size * size * size) / times.sorted()[times.count / 2] / 1e9
    }

    /// A line from /proc/self/status in MB ("VmHWM", "VmRSS"); 0 where there is no /proc.
    public static func memoryMB(_ field: String) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
            let kB = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
            return kB / 1024
        }
        return 0
    }

    /// The machine line: cores, OpenBLAS kernel and threads, sgemm rate.
    public static func machineLine(sgemm: Double) -> String {
        "BENCH kind=sgemm size=2048 gflops=\(String(format: "%.1f", sgemm)) nproc=\(ProcessInfo.processInfo.activeProcessorCount) "
            + "blas_core=\(BLAS.coreName) kernels=\(KernelInstructionSet.active) workers=\(Parallel.workerCount) "
            + "blas_threads_per_worker=1"
    }

    // MARK: - Running every row, one child process each

    /// Runs each row in a child process (`executable` followed by `arguments` and the row's id) so that each row's
    /// peak memory is its own, handing the children's BENCH lines to `emit` as they come (the caller prints them)
    /// and the sgemm rate before and after. Returns the lines.
    @discardableResult
    public static func runAll(
        _ selected: [Row], executable: String, arguments: [String], emit: (String) -> Void
    ) throws -> [String] {
        var lines: [String] = []
        func say(_ line: String) {
            lines.append(line)
            emit(line)
        }
        say(machineLine(sgemm: sgemmGFLOPs()))
        for row in selected {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments + [row.id]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            let output = String(decoding: data, as: UTF8.self)
            let benchLines = output.split(separator: "\n").filter { $0.hasPrefix("BENCH ") }
            if process.terminationStatus != 0 || benchLines.isEmpty {
                say("BENCH \(row.fields) error=exit-\(process.terminationStatus)")
            } else {
                for line in benchLines { say(String(line)) }
            }
        }
        say(machineLine(sgemm: sgemmGFLOPs()))
        return lines
    }

    // MARK: - FLOP counting

    /// The linear work of one layer application, as FLOPs (2 per multiply–add).
    struct Work {
        /// The primal forward pass.
        var forward = 0.0
        /// Products with the parameter tangents (`W̃ z`): one per linearized operator.
        var parameterTangent = 0.0
        /// Products with the input tangent (`W ż`): operators above the lowest linearized one.
        var inputTangent = 0.0

        static func + (a: Work, b: Work) -> Work {
            Work(
                forward: a.forward + b.forward, parameterTangent: a.parameterTangent + b.parameterTangent,
                inputTangent: a.inputTangent + b.inputTangent)
        }
    }

    /// Walks `layer` for an input of `shape` whose tangent is nonzero when `tangentIn`; returns the work, the output
    /// shape and whether the output tangent is nonzero.
    static func work(_ layer: any Layer, _ shape: Shape, tangentIn: Bool, linearized: Bool) throws
        -> (Work, Shape, Bool)
    {
        let out = try layer.outputShape(for: shape)
        var linear = 0.0
        if let conv = layer as? Conv2D {
            linear = try conv.geometry(for: shape).flops
        } else if let dense = layer as? Dense {
            linear = 2 * Double(shape[0] * dense.inputCount * dense.outputCount)
        } else if let sequential = layer as? Sequential {
            var total = Work(), current = shape, tangent = tangentIn
            for child in sequential.layers {
                let (w, s, t) = try work(child.layer, current, tangentIn: tangent, linearized: linearized)
                (total, current, tangent) = (total + w, s, t)
            }
            return (total, out, tangent)
        } else if let residual = layer as? Residual {
            let (body, _, bodyTangent) = try work(residual.body, shape, tangentIn: tangentIn, linearized: linearized)
            var total = body, tangent = bodyTangent || tangentIn
            if let shortcut = residual.shortcut {
                let (side, _, sideTangent) = try work(shortcut, shape, tangentIn: tangentIn, linearized: linearized)
                total = total + side
                tangent = bodyTangent || sideTangent
            }
            return (total, out, tangent)
        } else {
            return (Work(), out, tangentIn) // element-wise, pooling, flatten: not counted
        }
        let hasParameterTangent = linearized && !layer.parameters.isEmpty
        return (
            Work(
                forward: linear, parameterTangent: hasParameterTangent ? linear : 0,
                inputTangent: tangentIn ? linear : 0),
            out, tangentIn || hasParameterTangent
        )
    }

    /// FLOPs per image of the row's step.
    static func flopsPerImage(_ row: Row, network: Network, bottom: Sequential, z0Shape: Shape) throws -> Double {
        let imageShape = Shape([row.batch] + network.inputShape.dimensions)
        let (bottomWork, _, _) = try work(bottom, imageShape, tangentIn: false, linearized: false)
        let top = try network.top(splitAt: row.split)
        var topWork = Work(), shape = z0Shape, tangent = false
        for child in top.layers {
            let (w, s, t) = try work(
                child.layer, shape, tangentIn: tangent, linearized: row.linearize.contains(child.name))
            (topWork, shape, tangent) = (topWork + w, s, t)
        }
        let head = 2 * Double(row.batch * network.featureCount * row.classes)
        let (p, l, t) = (topWork.forward, topWork.parameterTangent, topWork.inputTangent)
        var step: Double
        switch row.kind {
        case .bottom: return bottomWork.forward / Double(row.batch)
        // Frozen features, the head forward and its weight gradient.
        case .activation: step = p + 2 * head
        // Forward: primal, tangents; backward through the tangent chain: weight gradients (l) and input gradients
        // above the lowest linearized layer (t); ω̄ᵀ ḟ and its cotangent.
        case .gradient: step = p + 2 * (l + t) + 2 * head
        case .full: step = p + 2 * (l + t) + 4 * head
        // Forward, weight gradients of θ2, input gradients above its lowest layer; head forward, weight gradient,
        // feature cotangent.
        case .finetune: step = p + l + t + 3 * head
        }
        if !row.cached { step += bottomWork.forward }
        return step / Double(row.batch)
    }
}
