import Foundation
import HDF5
import Layers
import Tensor

/// A BiGAN run in HDF5, enough to continue it bit for bit: groups `/encoder`, `/generator`, `/discriminator` (each
/// parameter and buffer by its PyTorch name), `/optimizer_d` and `/optimizer_ge` (Adam's moments as datasets
/// `0`…`n−1`, with attributes `count` and `step`); attributes `format` = "gradfeat-bigan-checkpoint", `version` = 1,
/// `model`, `iteration`, `config`, `bigan` and `history` (JSON) and `trajectory_hash` (the keys that decided the
/// parameters). Written atomically.
public enum BiganCheckpoint {
    public static let format = "gradfeat-bigan-checkpoint"
    public static let version = 1

    public static func save(
        _ state: BiganState, configuration: TrainingConfiguration, settings: BiganSettings,
        model: String, to url: URL
    ) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func json(_ value: some Encodable) throws -> String {
            String(decoding: try encoder.encode(value), as: UTF8.self)
        }
        try HDF5File.writeAtomically(to: url, format: format, version: version) { file in
            try file.setAttribute("model", model)
            try file.setAttribute("iteration", state.iteration)
            try file.setAttribute("config", try json(configuration))
            try file.setAttribute("bigan", try json(settings))
            try file.setAttribute("history", try json(state.history))
            try file.setAttribute("trajectory_hash", try trajectory(configuration, settings, model: model).hash)
            for (name, entries) in networks(state.models) {
                let group = try file.createGroup(name)
                for (key, value) in entries {
                    try group.createDataset(key, values: value.scalars, shape: value.shape.dimensions)
                }
            }
            for (name, optimizer) in [
                ("optimizer_d", state.discriminatorOptimizer), ("optimizer_ge", state.encoderGeneratorOptimizer),
            ] {
                let group = try file.createGroup(name)
                try group.setAttribute("count", optimizer.state.count)
                try group.setAttribute("step", optimizer.step)
                for (i, value) in optimizer.state.enumerated() {
                    try group.createDataset(String(i), values: value.scalars, shape: value.shape.dimensions)
                }
            }
        }
    }

    /// Restores `state` (fresh models of the same run, from ``BiganPretraining/start(_:)``) from `url`; throws,
    /// naming what differs, unless the checkpoint continues this configuration's run.
    public static func load(
        _ url: URL, into state: inout BiganState, configuration: TrainingConfiguration, settings: BiganSettings,
        model: String
    ) throws {
        func damaged(_ problem: String) -> GradFeatError {
            .damagedFile(
                path: url.path, problem: problem, fix: "restore it from a copy, or move it aside to start the run again"
            )
        }
        let file = try HDF5File(url: url, mode: .readOnly)
        try file.requireFormat(format, version: version)
        let decoder = JSONDecoder()
        let theirConfiguration = try decoder.decode(
            TrainingConfiguration.self, from: Data((try file.attribute("config", as: String.self)).utf8))
        let theirSettings = try decoder.decode(
            BiganSettings.self, from: Data((try file.attribute("bigan", as: String.self)).utf8))
        let theirModel: String = try file.attribute("model")
        let mine = try trajectory(configuration, settings, model: model)
        let theirs = try trajectory(theirConfiguration, theirSettings, model: theirModel)
        if let differences = mine.differences(from: theirs, mine: "this run", theirs: "the checkpoint \(url.path)") {
            throw GradFeatError.checkpointMismatch(
                "\(differences); resume with the options it was trained with, or write to another --output")
        }
        guard try file.attribute("trajectory_hash", as: String.self) == theirs.hash else {
            throw damaged("its trajectory_hash does not match its config: the file was altered")
        }
        let iteration: Int = try file.attribute("iteration")
        guard iteration >= 0 else { throw damaged("iteration is \(iteration)") }
        guard iteration <= configuration.iterations else {
            throw GradFeatError.checkpointMismatch(
                "\(url.path) has completed \(iteration) iterations, more than this run's niter "
                    + "\(configuration.iterations); pass --niter \(iteration) or more to continue it")
        }

        /// Tensors shaped like `expected`, read from `group`'s datasets named by `names`.
        func read(_ group: HDF5Group, _ names: [String], like expected: [Tensor]) throws -> [Tensor] {
            try zip(names, expected).map { name, like in
                guard try group.exists(name) else { throw damaged("\(group.name)/\(name) is missing") }
                let dataset = try group.dataset(named: name)
                guard Shape(dataset.shape) == like.shape else {
                    throw damaged("\(group.name)/\(name) is \(Shape(dataset.shape)), the model's is \(like.shape)")
                }
                let tensor = try Tensor(shape: like.shape, scalars: try dataset.readAsFloat())
                guard tensor.isFinite else { throw damaged("\(group.name)/\(name) holds NaN or infinite values") }
                return tensor
            }
        }
        let encoder = try file.group(named: "encoder"), generator = try file.group(named: "generator")
        let discriminator = try file.group(named: "discriminator")
        var models = state.models
        models.encoder.parameters = try read(encoder, models.encoder.parameterNames, like: models.encoder.parameters)
        models.encoder.buffers = try read(encoder, models.encoder.bufferNames, like: models.encoder.buffers)
        models.generator.parameters = try read(
            generator, models.generator.parameterNames, like: models.generator.parameters)
        models.generator.buffers = try read(generator, models.generator.bufferNames, like: models.generator.buffers)
        models.discriminator.parameters = try read(
            discriminator, models.discriminator.parameterNames, like: models.discriminator.parameters)

        func restore(_ optimizer: inout any Optimizer, from name: String, parameters: [Tensor]) throws {
            let group = try file.group(named: name)
            let count: Int = try group.attribute("count"), step: Int = try group.attribute("step")
            guard step >= 0 else { throw damaged("/\(name) step is \(step)") }
            // Adam keeps two moments per parameter, SGD one; before the first step neither keeps any.
            let perParameter = parameters.isEmpty ? 0 : count / parameters.count
            guard count == perParameter * parameters.count, (0...2).contains(perParameter) else {
                throw damaged("/\(name) holds \(count) tensors for \(parameters.count) parameters")
            }
            optimizer.state = try read(
                group, (0..<count).map(String.init),
                like: Array(repeating: parameters, count: perParameter).flatMap { $0 })
            optimizer.step = step
        }
        try restore(&state.discriminatorOptimizer, from: "optimizer_d", parameters: models.discriminator.parameters)
        try restore(
            &state.encoderGeneratorOptimizer, from: "optimizer_ge",
            parameters: models.encoder.parameters + models.generator.parameters)
        state.models = models
        state.iteration = iteration
        state.history = try decoder.decode(
            [BiganRecord].self, from: Data((try file.attribute("history", as: String.self)).utf8))
    }

    /// The three networks' stored tensors by group.
    static func networks(_ models: BiganModels) -> [(String, [(name: String, value: Tensor)])] {
        [
            ("encoder", models.encoder.stateDict), ("generator", models.generator.stateDict),
            (
                "discriminator",
                models.discriminator.parameterNames.enumerated().map {
                    ($0.element, models.discriminator.parameters[$0.offset])
                }
            ),
        ]
    }

    /// The keys that decide a BiGAN run's parameters.
    static func trajectory(_ configuration: TrainingConfiguration, _ settings: BiganSettings, model: String) throws
        -> Trajectory
    {
        var trajectory = try Trajectory(of: configuration)
        for (key, value) in try Trajectory(of: settings).values { trajectory.values["bigan.\(key)"] = value }
        trajectory.values["model"] = "\"\(model)\""
        return trajectory
    }
}
