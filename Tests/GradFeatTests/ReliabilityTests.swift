import Foundation
import GradFeat
import HDF5
import Layers
import Tensor
import Testing

/// What must never pass silently: a checkpoint resumed or scored under another configuration, weights altered after
/// they were written, a second run into a busy folder.
@Suite struct ReliabilityTests {
    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "gradfeat-reliability-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func trajectoriesIgnoreHowLongButNameWhatDiffers() throws {
        var first = TrainingConfiguration.paper(iterations: 100, seed: 3)
        var longer = first
        longer.iterations = 400
        longer.evaluateEvery = 50
        longer.checkpointEvery = 25
        #expect(try Trajectory(of: first).differences(from: Trajectory(of: longer), mine: "a", theirs: "b") == nil)
        first.learningRate = 0.01
        let differences = try Trajectory(of: first).differences(from: Trajectory(of: longer), mine: "a", theirs: "b")
        #expect(differences?.contains("lr = 0.01 in a") == true)
        #expect(try Trajectory(of: first).hash != Trajectory(of: longer).hash)
    }

    /// Trains the activation model for `iterations` into `folder` with `trajectory`, resuming when asked.
    static func train(
        into folder: URL, iterations: Int, learningRate: Float = 0.01, resume: Bool,
        trajectory: Trajectory
    ) throws -> [Comparison.Row] {
        let network = GradFeatModelTests.smallNetwork(seed: 1)
        let data = try InMemoryBatches(
            inputs: GradFeatModelTests.input(24, seed: 3),
            targets: .classes((0..<24).map { $0 % 3 }), classCount: 3)
        let cache = try ActivationCache.compute(network: network, splitAt: "block", data: data, quiet: true)
        let configuration = TrainingConfiguration(
            optimizer: .adam, learningRate: learningRate, weightDecay: 0, batchSize: 8, iterations: iterations,
            stepSize: 0, seed: 5)
        var comparison = Comparison(
            network: network, split: "block", linearize: ["block", "conv3"],
            extractors: ["activation"], configurations: ["activation": configuration],
            quiet: true)
        comparison.checkpointDirectory = folder
        comparison.resume = resume
        comparison.trajectories = ["activation": trajectory]
        return try comparison.run(train: cache, test: cache, loss: SoftmaxCrossEntropy())
    }

    @Test func resumeContinuesALongerRunAndRefusesAnotherConfiguration() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let trajectory = Trajectory(values: ["model": "\"small\"", "lr": "0.01"])
        _ = try Self.train(into: folder, iterations: 4, resume: false, trajectory: trajectory)
        let checkpoint = try CheckpointFile.load(folder.appendingPathComponent("activation.h5")).state
        #expect(checkpoint.trajectory == trajectory)
        #expect(checkpoint.iteration == 4)

        // A larger niter continues the same trajectory, and ends where an uninterrupted run ends.
        let resumed = try Self.train(into: folder, iterations: 8, resume: true, trajectory: trajectory)
        let other = try Self.folder()
        defer { try? FileManager.default.removeItem(at: other) }
        let straight = try Self.train(into: other, iterations: 8, resume: false, trajectory: trajectory)
        #expect(resumed[0].metrics == straight[0].metrics)

        // Another learning rate: refused naming the key.
        let changed = Trajectory(values: ["model": "\"small\"", "lr": "0.1"])
        let refusal = #expect(throws: GradFeatError.self) {
            try Self.train(into: folder, iterations: 12, resume: true, trajectory: changed)
        }
        #expect(refusal?.description.contains("lr = 0.1 in this run") == true)
        // A checkpoint past the new niter cannot be continued to it.
        let past = #expect(throws: GradFeatError.self) {
            try Self.train(into: folder, iterations: 2, resume: true, trajectory: trajectory)
        }
        #expect(past?.description.contains("--niter 8 or more") == true)
    }

    @Test func weightsAlteredAfterWritingAreRefused() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let network = GradFeatModelTests.smallNetwork(seed: 2)
        let url = folder.appendingPathComponent("weights.h5")
        try WeightsFile.save(network, to: url)
        _ = try WeightsFile.load(url, into: GradFeatModelTests.smallNetwork(seed: 9))
        // Flip one value in place, as a damaged disk or a careless script would.
        let name = try #require(network.stateDict.first?.name)
        let file = try HDF5File(url: url, mode: .readWrite)
        let dataset = try file.dataset(named: name)
        var values: [Float] = try dataset.read()
        values[0] = -values[0] + 1
        try dataset.write(values)
        try file.close()
        let refusal = #expect(throws: GradFeatError.self) {
            try WeightsFile.load(url, into: GradFeatModelTests.smallNetwork(seed: 9))
        }
        #expect(refusal?.description.contains("weights_hash") == true)
    }

    @Test func aCheckpointDeclaringMoreThanItStoresIsRefused() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // A dataset inside a group (/parameters) declaring 2^40 floats whose chunks were never written.
        let url = folder.appendingPathComponent("huge.h5")
        try HDF5File.writeAtomically(to: url, format: CheckpointFile.format, version: CheckpointFile.version) { file in
            try file.setAttribute("parameter_names", ["fc.weight"])
            let parameters = try file.createGroup("parameters")
            _ = try parameters.createDataset(
                "fc.weight", elementType: .float32, shape: [1 << 20, 1 << 20],
                options: DatasetOptions(chunkShape: [64, 64], compression: .deflate(level: 1)))
        }
        let refusal = #expect(throws: HDF5Error.self) { try CheckpointFile.load(url) }
        #expect(refusal?.description.contains("chunks are stored") == true)
    }

    @Test func theRunLockNamesTheProcessHoldingIt() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = try RunLock(folder)
        let refusal = #expect(throws: GradFeatError.self) { try RunLock(folder) }
        #expect(refusal?.description.contains("process \(ProcessInfo.processInfo.processIdentifier)") == true)
        withExtendedLifetime(first) {}
    }

    @Test func staleTemporaryFilesOfEndedProcessesAreRemoved() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let target = folder.appendingPathComponent("cache.h5")
        // A process id that cannot be running (above Linux's pid_max of 2^22), and this live process.
        let stale = folder.appendingPathComponent("cache.h5.tmp-99999999")
        let live = TemporaryFile.url(for: target)
        for url in [stale, live] { try Data([1, 2, 3]).write(to: url) }
        #expect(TemporaryFile.removeStale(for: target) == ["cache.h5.tmp-99999999"])
        #expect(!FileManager.default.fileExists(atPath: stale.path))
        #expect(FileManager.default.fileExists(atPath: live.path))
    }
}
