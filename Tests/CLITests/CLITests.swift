import ArgumentParser
import Foundation
import GradFeat
import Tensor
import Testing
@testable import gradfeat

/// The command-line tool end to end on a tiny MNIST-format data set written here: `cache`, `train` with a YAML
/// config, `finetune`, `eval --run`.
@Suite(.serialized) struct CLITests {
    /// Runs `gradfeat ARGUMENTS` in this process.
    static func gradfeat(_ arguments: [String]) async throws {
        try await GradFeatCommand.run(arguments: arguments)
    }

    /// A folder with `mnist/` holding 64 training and 32 test images (IDX files) and `weights.h5` for bigan-small.
    static func workspace() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("gradfeat-cli-\(UUID().uuidString)")
        let data = root.appendingPathComponent("mnist")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        var rng = SeededRandom(seed: 11)
        func bigEndian(_ values: [Int]) -> [UInt8] {
            values.flatMap { value in (0..<4).reversed().map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        }
        for (stem, count) in [("train", 64), ("t10k", 32)] {
            let labels = (0..<count).map { UInt8($0 % 10) }
            // Each class brightens its own band of rows, so there is something to learn.
            var pixels = [UInt8]()
            for label in labels {
                for row in 0..<28 {
                    for _ in 0..<28 {
                        let band = row / 3 == Int(label) ? 160 : 0
                        pixels.append(UInt8(min(255, band + Int.random(in: 0..<64, using: &rng))))
                    }
                }
            }
            try Data(bigEndian([0x803, count, 28, 28]) + pixels)
                .write(to: data.appendingPathComponent("\(stem)-images-idx3-ubyte"))
            try Data(bigEndian([0x801, count]) + labels).write(to: data.appendingPathComponent("\(stem)-labels-idx1-ubyte"))
        }
        let network = try ModelZoo.make(BiganCIFAR.smallName, classes: 10, inputChannels: 1, seed: 9)
        try WeightsFile.save(network, to: root.appendingPathComponent("weights.h5"))
        return root
    }

    @Test func finetuneHasHelpAndSharesTrainsOptions() {
        let finetune = FinetuneCommand.helpMessage()
        let train = TrainCommand.helpMessage()
        for option in ["--linearize", "--split", "--omega", "--config", "--niter", "--resume", "--output", "--dataset",
                       "--weights", "--checkpoint-every", "--no-standardize"] {
            #expect(finetune.contains(option), "finetune --help lacks \(option)")
            #expect(train.contains(option), "train --help lacks \(option)")
        }
        #expect(train.contains("--extractor <extractor>") && !finetune.contains("--extractor <extractor>"))
        #expect(finetune.contains("gradfeat train --extractor finetune"))
    }

    /// A config file's run keys become options after the subcommand, before the user's (which therefore win).
    @Test func configFileRunKeysBecomeOptions() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("gradfeat-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let json = root.appendingPathComponent("run.json")
        try Data(#"{"dataset": "cifar10", "mode": ["activation", "gradfeat"], "linearize": "conv4,conv5", "lr": 0.1, "train_size": 500}"#.utf8)
            .write(to: json)
        let expanded = try ConfigFileArguments.expand(["train", "--config", json.path, "--dataset", "mnist"])
        #expect(expanded == ["train", "--dataset=cifar10", "--train-size=500", "--extractor=activation,gradfeat",
                             "--linearize=conv4,conv5", "--config", json.path, "--dataset", "mnist"])
        let train = try #require(try GradFeatCommand.parseAsRoot(expanded) as? TrainCommand)
        #expect(train.options.data.dataset == "mnist" && train.options.data.trainSize == 500)
        #expect(train.extractor == "activation,gradfeat" && train.options.linearize == "conv4,conv5")
        // Other subcommands pass through; finetune and pretrain refuse keys they do not take, naming them.
        #expect(try ConfigFileArguments.expand(["eval", "--config", json.path]) == ["eval", "--config", json.path])
        for command in ["finetune", "pretrain"] {
            let refusal = #expect(throws: ValidationError.self) { try ConfigFileArguments.expand([command, "--config", json.path]) }
            #expect(refusal?.message.contains("'mode'") == true || refusal?.message.contains("'linearize'") == true)
        }
        // --help needs no readable file; a plain comma list is trimmed; a fractional size names the file and key.
        #expect(try ConfigFileArguments.expand(["train", "--config", "missing.yaml", "--help"]).count == 4)
        let yaml = root.appendingPathComponent("run.yaml")
        try Data("mode: activation, gradfeat\ntrain_size: 2.5\n".utf8).write(to: yaml)
        let fraction = #expect(throws: ValidationError.self) { try ConfigFileArguments.expand(["train", "--config", yaml.path]) }
        #expect(fraction?.message.contains("'train_size'") == true && fraction?.message.contains(yaml.path) == true)
        try Data("mode: activation, gradfeat\n".utf8).write(to: yaml)
        #expect(try ConfigFileArguments.expand(["train", "--config", yaml.path]).contains("--extractor=activation,gradfeat"))

        // The README's example files name the same run in both formats.
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Examples/configs")
        let fromYAML = try ConfigFileArguments.expand(["train", "--config", examples.appendingPathComponent("cifar10-gradfeat.yaml").path])
        let fromJSON = try ConfigFileArguments.expand(["train", "--config", examples.appendingPathComponent("cifar10-gradfeat.json").path])
        #expect(fromYAML.dropLast(2) == fromJSON.dropLast(2))
        #expect(fromYAML.contains("--extractor=activation,gradient,gradfeat,finetune"))
    }

    @Test func trainReusesCachedActivationsAndEvalRebuildsTheRun() async throws {
        let root = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let path = { (name: String) in root.appendingPathComponent(name).path }
        let run = RunDirectory(root.appendingPathComponent("run"))
        let common = ["--dataset", "mnist", "--data-dir", root.path, "--model", BiganCIFAR.smallName,
                      "--weights", path("weights.h5"), "--quiet"]

        // Activation caches written by `cache --activations`, then reused by `train`.
        for (split, role) in [("train", "train"), ("test", "test")] {
            try await Self.gradfeat(["cache", "--format", "mnist", "--source", path("mnist"), "--split", split,
                                     "--output", path("\(split).h5"), "--quiet"])
            try await Self.gradfeat(["cache", "--activations", "--model", BiganCIFAR.smallName, "--weights",
                                     path("weights.h5"), "--input", path("\(split).h5"), "--output",
                                     run.activationCache(role).path, "--quiet"])
        }
        func identity(_ url: URL) throws -> [String] {
            let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
            return ["\(attributes[.systemFileNumber] ?? "")", "\(attributes[.modificationDate] ?? "")"]
        }
        let before = try identity(run.activationCache("train"))

        // A YAML config with training and run keys; --niter and --extractor override its niter and mode.
        let config = root.appendingPathComponent("run.yaml")
        try Data("""
            # a short run
            optim: adam
            lr: 0.002
            batchsize: 16
            niter: 1000
            mode: [activation, gradient]
            linearize: [conv5]
            dataset: cifar10
            """.utf8).write(to: config)
        try await Self.gradfeat(["train", "--config", config.path] + common + ["--niter", "4",
                                                      "--extractor", "activation,gradfeat", "--output", run.url.path])
        #expect(try identity(run.activationCache("train")) == before, "train recomputed the cache instead of reusing it")
        let record = try run.record()
        #expect(record.training.learningRate == 0.002 && record.training.batchSize == 16 && record.training.iterations == 4)
        #expect(record.extractors == ["activation", "gradfeat"] && record.inputShape == [1, 32, 32])
        for name in ["results.md", "metrics.csv", "accuracy.svg", "activation.h5", "gradfeat.h5"] {
            #expect(FileManager.default.fileExists(atPath: run.file(name).path), "train did not write \(name)")
        }

        // eval --run rebuilds both extractors and finds the accuracy training measured at its last iteration.
        try await Self.gradfeat(["eval", "--run", run.url.path])
        let scores = try JSONDecoder().decode([String: Metrics].self, from: Data(contentsOf: run.file("eval.json")))
        #expect(Set(scores.keys) == ["activation", "gradfeat"])
        for (name, metrics) in scores {
            let last = try #require(try CheckpointFile.load(run.checkpoint(name)).state.history.last)
            #expect(last.iteration == 4 && metrics.count == 32)
            #expect(metrics.accuracy == last.testMetric, "\(name): eval \(metrics.accuracy ?? .nan) vs training \(last.testMetric ?? .nan)")
        }
        #expect(FileManager.default.fileExists(atPath: run.file("eval.md").path))

        // Without its activation caches, eval --run computes them again from the recorded data.
        for role in ["train", "test"] { try FileManager.default.removeItem(at: run.activationCache(role)) }
        try await Self.gradfeat(["eval", "--run", run.url.path, "--extractor", "gradfeat"])
        let again = try JSONDecoder().decode([String: Metrics].self, from: Data(contentsOf: run.file("eval.json")))
        #expect(again["gradfeat"] == scores["gradfeat"])

        // finetune: the same run folder artefacts, under its own command.
        let finetune = RunDirectory(root.appendingPathComponent("finetune"))
        try await Self.gradfeat(["finetune"] + common + ["--niter", "3", "--output", finetune.url.path])
        #expect(try finetune.record().extractors == ["finetune"])
        for name in ["results.md", "metrics.csv", "accuracy.svg", "config.json", "finetune.h5"] {
            #expect(FileManager.default.fileExists(atPath: finetune.file(name).path), "finetune did not write \(name)")
        }
        try await Self.gradfeat(["eval", "--run", finetune.url.path])
        let tuned = try JSONDecoder().decode([String: Metrics].self, from: Data(contentsOf: finetune.file("eval.json")))
        let last = try #require(try CheckpointFile.load(finetune.checkpoint("finetune")).state.history.last)
        #expect(tuned["finetune"]?.accuracy == last.testMetric)
        // …the same model as `train --extractor finetune` trains.
        let viaTrain = RunDirectory(root.appendingPathComponent("train-finetune"))
        try await Self.gradfeat(["train"] + common + ["--niter", "3", "--extractor", "finetune", "--output", viaTrain.url.path])
        #expect(try CheckpointFile.load(viaTrain.checkpoint("finetune")).state.parameters
            == CheckpointFile.load(finetune.checkpoint("finetune")).state.parameters)

        // Typed refusals that say what to do.
        let missing = await #expect(throws: RunDirectory.Error.self) {
            try await Self.gradfeat(["eval", "--run", run.url.path, "--extractor", "gradient"])
        }
        #expect(missing?.description.contains("gradient.h5") == true && missing?.description.contains("--extractor") == true)
    }
}
