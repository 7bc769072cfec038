import ArgumentParser
import Foundation
import GradFeat
import Tensor
import Testing

@testable import GradFeatCLI

/// The command-line tool end to end on a tiny MNIST-format data set written here: `cache`, `train` with a YAML
/// config, `finetune`, `eval --run`.
@Suite(.serialized) struct CLITests {
    /// Runs `gradfeat ARGUMENTS` in this process.
    static func gradfeat(_ arguments: [String]) throws {
        try GradFeatCLI.run(arguments: arguments)
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
            try Data(bigEndian([0x801, count]) + labels).write(
                to: data.appendingPathComponent("\(stem)-labels-idx1-ubyte"))
        }
        let network = try ModelZoo.make(BiganCIFAR.smallName, classes: 10, inputChannels: 1, seed: 9)
        try WeightsFile.save(network, to: root.appendingPathComponent("weights.h5"))
        return root
    }

    @Test func finetuneHasHelpAndSharesTrainsOptions() {
        let finetune = FinetuneCommand.helpMessage()
        let train = TrainCommand.helpMessage()
        for option in [
            "--linearize", "--split", "--omega", "--config", "--niter", "--resume", "--output", "--dataset",
            "--weights", "--checkpoint-every", "--no-standardize",
        ] {
            #expect(finetune.contains(option), "finetune --help lacks \(option)")
            #expect(train.contains(option), "train --help lacks \(option)")
        }
        #expect(train.contains("--extractor <extractor>") && !finetune.contains("--extractor <extractor>"))
        #expect(finetune.contains("gradfeat train --extractor finetune"))
    }

    /// The spec `gradfeat ARGUMENTS` (a train command line) resolves to.
    static func trainSpec(_ arguments: [String]) throws -> ExperimentSpec {
        let train = try #require(try GradFeatCLI.parseAsRoot(["train"] + arguments) as? TrainCommand)
        return try train.options.spec(defaults: ExperimentSpec(output: "runs/train"), extractors: train.extractor)
    }

    /// One precedence chain for every key: preset < command defaults < file < command line.
    @Test func configFileKeysAndOptionsFollowOnePrecedence() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("gradfeat-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let yaml = root.appendingPathComponent("run.yaml")
        try Data(
            """
            dataset: cifar10
            mode: [activation, {name: gradfeat}]
            linearize: conv4, conv5
            lr: 0.1
            seed: 5
            checkpoint_every: 100
            train_size: 500
            standardize: false
            """.utf8
        ).write(to: yaml)
        let fromFile = try Self.trainSpec(["--config", yaml.path])
        #expect(fromFile.data.dataset == "cifar10" && fromFile.data.trainSize == 500)
        #expect(
            fromFile.extractors.map(\.name) == ["activation", "gradfeat"] && fromFile.linearize == ["conv4", "conv5"])
        #expect(fromFile.training.learningRate == 0.1 && fromFile.training.seed == 5)
        #expect(fromFile.training.checkpointEvery == 100, "the file's checkpoint_every lost to a default")
        #expect(
            fromFile.standardize == false && fromFile.training.iterations == 5_000 && fromFile.training.batchSize == 64)
        // The command line wins over the file, a default value (--seed 0) included.
        let overridden = try Self.trainSpec([
            "--config", yaml.path, "--seed", "0", "--dataset", "mnist",
            "--extractor", "gradient", "--checkpoint-every", "0", "--lr", "0.5",
        ])
        #expect(overridden.training.seed == 0 && overridden.data.dataset == "mnist")
        #expect(overridden.training.checkpointEvery == 0 && overridden.training.learningRate == 0.5)
        #expect(overridden.extractors == [ExtractorSpec("gradient")])
        // A preset named in the file sets the training keys the file leaves out.
        try Data("preset: released\nlr: 0.3\n".utf8).write(to: yaml)
        let released = try Self.trainSpec(["--config", yaml.path])
        #expect(
            released.training.optimizer == .sgd && released.training.clipNorm == 10
                && released.training.learningRate == 0.3)
        #expect(try Self.trainSpec(["--config", yaml.path, "--preset", "paper"]).training.optimizer == .adam)

        // An extractor's options keep where they came from, for the plugin's own messages.
        try Data("mode: [activation, {name: gradfeat, options: {width: wide}}]\n".utf8).write(to: yaml)
        let options = try Self.trainSpec(["--config", yaml.path, "--extractor-option", "gradfeat.depth=2"])
            .extractors[1].pluginOptions
        #expect(options.origins["width"]?.contains("\(yaml.path), line 1, column") == true)
        #expect(options.origins["depth"]?.contains("--extractor-option") == true && options.values["depth"] == .int(2))
        struct Width: Decodable { var width: Int }
        let refusal = #expect(throws: ConfigError.self) { try options.decode(Width.self, for: "extractor 'gradfeat'") }
        #expect(refusal?.description.contains("line 1") == true)

        // The README's example files name the same experiment in both formats.
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Examples/configs")
        let a = try Self.trainSpec(["--config", examples.appendingPathComponent("cifar10-gradfeat.yaml").path])
        let b = try Self.trainSpec(["--config", examples.appendingPathComponent("cifar10-gradfeat.json").path])
        #expect(a == b && a.extractors.count == 4 && a.data.dataset == "cifar10")
    }

    /// Config files are read strictly: each refusal names the file, line and column and what to do.
    @Test func badConfigFilesAreRefusedWithTheirPlace() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("gradfeat-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let cases: [(String, String, [String])] = [
            ("yaml", "niter: 10\nstandardize: yes\n", ["line 2, column 14", "'standardize' must be true or false"]),
            ("yaml", "lr: 0.1\nmodle: resnet18\n", ["line 2, column 1", "unknown key 'modle'", "model"]),
            ("yaml", "base: &b 0.1\nlr: *b\n", ["line 1", "anchor"]),
            ("yaml", "lr: !!str 0.1\n", ["line 1", "tag"]),
            ("yaml", "lr: 0.1\nlr: 0.2\n", ["duplicated key", "'lr'"]),
            ("yaml", "niter: 2.5\n", ["line 1, column 8", "'niter' must be a whole number"]),
            ("yaml", "- lr\n", ["top level is not a mapping"]),
            ("yaml", "lr: [0.1\n", ["not valid YAML"]),
            ("yaml", "lr: .nan\n", ["not a finite number"]),
            ("yaml", "mode: [activation, {name: gradfeat, optons: {}}]\n", ["mode"]),
            ("yaml", String(repeating: "[", count: 200) + String(repeating: "]", count: 200) + "\n", ["config file"]),
            ("json", #"{"lr": "fast"}"#, ["line 1, column 8", "must be a number"]),
            ("json", #"{"niter": 10, "niter": 20}"#, ["duplicated key", "'niter'"]),
            ("yaml", "model: \"resnet-cifar\"\nniter: \"ten\"\n", ["line 2", "'niter' must be a whole number"]),
            ("json", #"{"lr": 0.1,"#, ["not valid JSON"]),
            ("toml", "lr = 0.1", ["unknown kind of file"]),
        ]
        for (index, (kind, text, expected)) in cases.enumerated() {
            let url = root.appendingPathComponent("case\(index).\(kind)")
            try Data(text.utf8).write(to: url)
            do {
                _ = try Self.trainSpec(["--config", url.path])
                Issue.record("case \(index) (\(text)) was accepted")
            } catch {
                let message = "\(error)"
                #expect(
                    message.contains(url.path),
                    "case \(index): the message does not name the file: \(message)")
                for part in expected { #expect(message.contains(part), "case \(index): '\(part)' not in: \(message)") }
            }
        }
        // A missing file, and options of the wrong kind, are named too.
        #expect(throws: ConfigError.self) {
            try Self.trainSpec(["--config", root.appendingPathComponent("none.yaml").path])
        }
        let option = #expect(throws: ConfigError.self) { try Self.trainSpec(["--parametrization", "wide"]) }
        #expect(option?.description.contains("option --parametrization") == true)
        let plugin = #expect(throws: ValidationError.self) {
            try Self.trainSpec(["--extractor", "activation", "--extractor-option", "gradfeat.width=3"])
        }
        #expect(plugin?.message.contains("gradfeat") == true)
    }

    /// `new-plugin` writes a package, and refuses to write into a folder that holds something.
    @Test func newPluginWritesAPackageAndRefusesAFullFolder() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "gradfeat-scaffold-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let package = root.appendingPathComponent("probe-ext")
        try Self.gradfeat(["new-plugin", "extractor", "probe-ext", "--output", package.path])
        let manifest = try String(contentsOf: package.appendingPathComponent("Package.swift"), encoding: .utf8)
        let checkout = NewPluginCommand.builtFrom.lastPathComponent.lowercased()
        #expect(manifest.contains(#"package: "\#(checkout)""#) && manifest.contains(#".executable(name: "probe-ext""#))
        for path in [
            "Sources/ProbeExt/ProbeExtExtractor.swift", "Sources/ProbeExtCLI/main.swift",
            "Tests/ProbeExtTests/ProbeExtConformanceTests.swift", "README.md",
        ] {
            #expect(FileManager.default.fileExists(atPath: package.appendingPathComponent(path).path), "no \(path)")
        }
        let again = #expect(throws: ValidationError.self) {
            try Self.gradfeat(["new-plugin", "extractor", "probe-ext", "--output", package.path])
        }
        #expect(again?.message.contains("not empty") == true)
        for bad in ["ProbeExt", "probe_ext", "-probe", "gradfeat"] {
            #expect(throws: (any Error).self) {
                try Self.gradfeat(["new-plugin", "extractor", bad, "--output", root.appendingPathComponent("x").path])
            }
        }
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("x").path))
    }

    @Test func trainReusesCachedActivationsAndEvalRebuildsTheRun() throws {
        let root = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let path = { (name: String) in root.appendingPathComponent(name).path }
        let run = RunDirectory(root.appendingPathComponent("run"))
        let common = [
            "--dataset", "mnist", "--data-dir", root.path, "--model", BiganCIFAR.smallName,
            "--weights", path("weights.h5"), "--quiet",
        ]

        // Activation caches written by `cache --activations`, then reused by `train`.
        for (split, role) in [("train", "train"), ("test", "test")] {
            try Self.gradfeat([
                "cache", "--format", "mnist", "--source", path("mnist"), "--split", split,
                "--output", path("\(split).h5"), "--quiet",
            ])
            try Self.gradfeat([
                "cache", "--activations", "--model", BiganCIFAR.smallName, "--weights",
                path("weights.h5"), "--input", path("\(split).h5"), "--output",
                run.activationCache(role).path, "--quiet",
            ])
        }
        func identity(_ url: URL) throws -> [String] {
            let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
            return ["\(attributes[.systemFileNumber] ?? "")", "\(attributes[.modificationDate] ?? "")"]
        }
        let before = try identity(run.activationCache("train"))

        // A YAML config with training and run keys; --niter and --extractor override its niter and mode.
        let config = root.appendingPathComponent("run.yaml")
        try Data(
            """
            # a short run
            optim: adam
            lr: 0.002
            batchsize: 16
            niter: 1000
            mode: [activation, gradient]
            linearize: [conv5]
            dataset: cifar10
            """.utf8
        ).write(to: config)
        try Self.gradfeat(
            ["train", "--config", config.path] + common + [
                "--niter", "4",
                "--extractor", "activation,gradfeat", "--output", run.url.path,
            ])
        #expect(
            try identity(run.activationCache("train")) == before, "train recomputed the cache instead of reusing it")
        let record = try run.record()
        #expect(
            record.training.learningRate == 0.002 && record.training.batchSize == 16 && record.training.iterations == 4)
        #expect(record.extractors == ["activation", "gradfeat"] && record.inputShape == [1, 32, 32])
        for name in ["results.md", "metrics.csv", "accuracy.svg", "activation.h5", "gradfeat.h5"] {
            #expect(FileManager.default.fileExists(atPath: run.file(name).path), "train did not write \(name)")
        }

        // eval --run rebuilds both extractors and finds the accuracy training measured at its last iteration.
        try Self.gradfeat(["eval", "--run", run.url.path])
        let scores = try JSONDecoder().decode([String: Metrics].self, from: Data(contentsOf: run.file("eval.json")))
        #expect(Set(scores.keys) == ["activation", "gradfeat"])
        for (name, metrics) in scores {
            let last = try #require(try CheckpointFile.load(run.checkpoint(name)).state.history.last)
            #expect(last.iteration == 4 && metrics.count == 32)
            #expect(
                metrics.accuracy == last.testMetric,
                "\(name): eval \(metrics.accuracy ?? .nan) vs training \(last.testMetric ?? .nan)")
        }
        #expect(FileManager.default.fileExists(atPath: run.file("eval.md").path))

        // Without its activation caches, eval --run computes them again from the recorded data.
        for role in ["train", "test"] { try FileManager.default.removeItem(at: run.activationCache(role)) }
        try Self.gradfeat(["eval", "--run", run.url.path, "--extractor", "gradfeat"])
        let again = try JSONDecoder().decode([String: Metrics].self, from: Data(contentsOf: run.file("eval.json")))
        #expect(again["gradfeat"] == scores["gradfeat"])

        // finetune: the same run folder artefacts, under its own command.
        let finetune = RunDirectory(root.appendingPathComponent("finetune"))
        try Self.gradfeat(["finetune"] + common + ["--niter", "3", "--output", finetune.url.path])
        #expect(try finetune.record().extractors == ["finetune"])
        for name in ["results.md", "metrics.csv", "accuracy.svg", "config.json", "finetune.h5"] {
            #expect(FileManager.default.fileExists(atPath: finetune.file(name).path), "finetune did not write \(name)")
        }
        try Self.gradfeat(["eval", "--run", finetune.url.path])
        let tuned = try JSONDecoder().decode([String: Metrics].self, from: Data(contentsOf: finetune.file("eval.json")))
        let last = try #require(try CheckpointFile.load(finetune.checkpoint("finetune")).state.history.last)
        #expect(tuned["finetune"]?.accuracy == last.testMetric)
        // …the same model as `train --extractor finetune` trains.
        let viaTrain = RunDirectory(root.appendingPathComponent("train-finetune"))
        try Self.gradfeat(
            ["train"] + common + ["--niter", "3", "--extractor", "finetune", "--output", viaTrain.url.path])
        #expect(
            try CheckpointFile.load(viaTrain.checkpoint("finetune")).state.parameters
                == CheckpointFile.load(finetune.checkpoint("finetune")).state.parameters)

        // A data-set cache trains like a named data set: with its own test file, or a seeded held-out fraction.
        let model = [
            "--model", BiganCIFAR.smallName, "--weights", path("weights.h5"), "--niter", "2",
            "--extractor", "activation", "--quiet",
        ]
        let cached = RunDirectory(root.appendingPathComponent("cached"))
        try Self.gradfeat(
            [
                "train", "--dataset", path("train.h5"), "--test-dataset", path("test.h5"),
                "--output", cached.url.path,
            ] + model)
        #expect(try cached.record().data.hasSuffix("64 train / 32 test images"))
        let heldOut = RunDirectory(root.appendingPathComponent("held-out"))
        try Self.gradfeat(
            [
                "train", "--dataset", path("train.h5"), "--test-fraction", "0.25", "--output",
                heldOut.url.path,
            ] + model)
        #expect(try heldOut.record().data.hasSuffix("48 train / 16 train-heldout images"))
        try Self.gradfeat(["eval", "--run", heldOut.url.path])
        let wrongKind = #expect(throws: GradFeatError.self) {
            try Self.gradfeat(
                [
                    "train", "--dataset", run.activationCache("test").path, "--output",
                    root.appendingPathComponent("wrong").path,
                ] + model)
        }
        #expect(wrongKind?.description.contains("is an activation cache") == true)
        let reverse = #expect(throws: (any Error).self) {
            try Self.gradfeat(
                [
                    "train", "--dataset", path("train.h5"), "--omega", path("test.h5"), "--output",
                    root.appendingPathComponent("reverse").path,
                ] + [
                    "--model", BiganCIFAR.smallName,
                    "--niter", "2", "--extractor", "gradfeat", "--quiet",
                ])
        }
        #expect("\(reverse.map { "\($0)" } ?? "")".contains("test.h5"))

        // Typed refusals that say what to do.
        let missing = #expect(throws: RunDirectory.Error.self) {
            try Self.gradfeat(["eval", "--run", run.url.path, "--extractor", "gradient"])
        }
        #expect(
            missing?.description.contains("gradient.h5") == true && missing?.description.contains("--extractor") == true
        )
    }
}
