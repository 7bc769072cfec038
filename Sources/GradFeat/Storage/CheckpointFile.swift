import Foundation
import HDF5
import Layers
import Tensor

/// A training checkpoint in HDF5: `/parameters/<name>` (the extractor's stored parameters), `/optimizer/<name>`
/// (momentum or Adam moments), and attributes `format` = "gradfeat-checkpoint", `version` = 1, `extractor`,
/// `iteration`, `optimizer_step`, `rng_state` (four words as int64 bit patterns), `config` and `history` (JSON),
/// and `trajectory` (JSON: the run's keys that decided the parameters, see ``Trajectory``) with `trajectory_hash`;
/// a full-batch solver's checkpoint adds `/solver/<name>` (its Float64 vectors, listed by the group's `vectors`
/// attribute) and one Float64 attribute of `/solver` per number.
/// Written atomically, so an interrupted write never leaves a checkpoint that looks whole.
public enum CheckpointFile {
    public static let format = "gradfeat-checkpoint"
    public static let version = 1

    public static func save(_ state: TrainingState, extractor: String, to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try HDF5File.writeAtomically(to: url, format: format, version: version) { file in
            try file.setAttribute("extractor", extractor)
            try file.setAttribute("iteration", state.iteration)
            try file.setAttribute("optimizer_step", state.optimizerStep)
            try file.setAttribute("rng_state", state.randomState.map { Int64(bitPattern: $0) })
            try file.setAttribute("config", String(decoding: try encoder.encode(state.configuration), as: UTF8.self))
            try file.setAttribute("history", String(decoding: try encoder.encode(state.history), as: UTF8.self))
            try file.setAttribute("parameter_names", state.parameterNames)
            if let trajectory = state.trajectory {
                try file.setAttribute(
                    "trajectory", String(decoding: try encoder.encode(trajectory.values), as: UTF8.self))
                try file.setAttribute("trajectory_hash", trajectory.hash)
            }
            let parameters = try file.createGroup("parameters")
            for (name, value) in zip(state.parameterNames, state.parameters) {
                try parameters.createDataset(name, values: value.scalars, shape: value.shape.dimensions)
            }
            let optimizer = try file.createGroup("optimizer")
            try optimizer.setAttribute("count", state.optimizerState.count)
            for (i, value) in state.optimizerState.enumerated() {
                try optimizer.createDataset(String(i), values: value.scalars, shape: value.shape.dimensions)
            }
            if let solverState = state.solverState {
                let group = try file.createGroup("solver")
                let vectors = solverState.vectors.sorted { $0.key < $1.key }
                try group.setAttribute("vectors", vectors.map(\.key))
                for (name, values) in vectors {
                    try group.createDataset(name, values: values, shape: [values.count])
                }
                for (name, value) in solverState.numbers.sorted(by: { $0.key < $1.key }) {
                    try group.setAttribute(name, value)
                }
            }
        }
    }

    /// The `/solver` group of a full-batch solver's checkpoint, checked to hold finite values.
    private static func solverState(in file: HDF5File, _ url: URL) throws -> SolverState? {
        guard try file.exists("solver") else { return nil }
        let group = try file.group(named: "solver")
        let names: [String] = try group.attribute("vectors")
        var state = SolverState()
        for name in names {
            let values: [Double] = try group.dataset(named: name).read()
            guard values.allSatisfy(\.isFinite) else {
                throw GradFeatError.checkpointMismatch(
                    "\(url.path): solver vector '\(name)' holds NaN or infinite values; the file is damaged: restore it "
                        + "from a copy or train again")
            }
            state.vectors[name] = values
        }
        for name in try group.attributeNames() where name != "vectors" {
            let value: Double = try group.attribute(name)
            guard value.isFinite else {
                throw GradFeatError.checkpointMismatch(
                    "\(url.path): solver number '\(name)' is \(value); the file is damaged: restore it from a copy or "
                        + "train again")
            }
            state.numbers[name] = value
        }
        return state
    }

    /// Reads a checkpoint; throws when the file is not one, or is truncated.
    public static func load(_ url: URL) throws -> (state: TrainingState, extractor: String) {
        let file = try HDF5File(url: url, mode: .readOnly)
        try file.requireFormat(format, version: version)
        let decoder = JSONDecoder()
        let names: [String] = try file.attribute("parameter_names")
        let parameters = try file.group(named: "parameters")
        let tensors = try names.map { name -> Tensor in
            let dataset = try parameters.dataset(named: name)
            let tensor = try Tensor(shape: Shape(dataset.shape), scalars: try dataset.read())
            guard tensor.isFinite else {
                throw GradFeatError.checkpointMismatch(
                    "\(url.path): parameter '\(name)' holds NaN or infinite values; the file is damaged, or training "
                        + "diverged before it was written (lower the learning rate and train again)")
            }
            return tensor
        }
        let optimizer = try file.group(named: "optimizer")
        let count: Int = try optimizer.attribute("count")
        guard count >= 0, count <= 3 * max(1, names.count) else {
            throw GradFeatError.checkpointMismatch(
                "\(url.path): /optimizer says it holds \(count) tensors for \(names.count) parameters; the file is "
                    + "damaged: restore it from a copy or train again")
        }
        let optimizerState = try (0..<count).map { i -> Tensor in
            let dataset = try optimizer.dataset(named: String(i))
            return try Tensor(shape: Shape(dataset.shape), scalars: try dataset.read())
        }
        let configuration = try decoder.decode(
            TrainingConfiguration.self, from: Data((try file.attribute("config", as: String.self)).utf8))
        let history = try decoder.decode(
            [EvaluationRecord].self, from: Data((try file.attribute("history", as: String.self)).utf8))
        var trajectory: Trajectory?
        if try file.hasAttribute("trajectory") {
            let values = try decoder.decode(
                [String: String].self, from: Data((try file.attribute("trajectory", as: String.self)).utf8))
            trajectory = Trajectory(values: values)
            guard try file.attribute("trajectory_hash", as: String.self) == trajectory?.hash else {
                throw GradFeatError.checkpointMismatch(
                    "\(url.path): its trajectory attribute does not match its trajectory_hash: the file was altered; "
                        + "restore it from a copy or train again")
            }
        }
        let state = TrainingState(
            iteration: try file.attribute("iteration"), parameters: tensors, parameterNames: names,
            optimizerState: optimizerState, optimizerStep: try file.attribute("optimizer_step"),
            randomState: (try file.attribute("rng_state", as: [Int64].self)).map { UInt64(bitPattern: $0) },
            configuration: configuration, history: history, trajectory: trajectory,
            solverState: try solverState(in: file, url))
        return (state, try file.attribute("extractor"))
    }
}
