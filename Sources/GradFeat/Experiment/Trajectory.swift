import Foundation

/// The keys of a run that decide a trained model's parameters — data, model and weights, split and linearized
/// layers, the extractor and its options, optimiser, batch, seed — with their values, recorded in every checkpoint
/// so that `--resume`, `eval --run` and `predict` refuse a checkpoint from another configuration by naming the key.
///
/// Keys that only say how long or how often (`niter`, `tol`, `eval_every`, `checkpoint_every`) or where (`output`, `data_dir`) are
/// left out: `--resume --niter 20000` continues a 10,000-iteration run.
public struct Trajectory: Codable, Sendable, Equatable {
    /// Key → its value as JSON text.
    public var values: [String: String]

    /// Keys of a spec or training configuration that do not change the trajectory.
    public static let excludedKeys: Set<String> = [
        "niter", "eval_every", "checkpoint_every", "output", "resume", "title", "preset", "test_size", "mode",
        "data_dir",
        "tol", "memory_budget",
    ]

    public init(values: [String: String]) { self.values = values }

    /// The trajectory keys of `value` (encoded flat, as config files are), without ``excludedKeys``.
    public init(of value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let object = try JSONSerialization.jsonObject(with: try encoder.encode(value), options: [.fragmentsAllowed])
        guard let dictionary = object as? [String: Any] else {
            throw GradFeatError.invalidConfiguration("a trajectory is made from a keyed value")
        }
        var values: [String: String] = [:]
        for (key, item) in dictionary where !Self.excludedKeys.contains(key) {
            let data = try JSONSerialization.data(withJSONObject: item, options: [.sortedKeys, .fragmentsAllowed])
            values[key] = String(decoding: data, as: UTF8.self)
        }
        self.values = values
    }

    /// The trajectory of one extractor of `spec` (with paths absolute): the spec's keys, the extractor's own
    /// name and options, and the layers as the run resolved them.
    public init(spec: ExperimentSpec, extractor: ExtractorSpec, layout: RunDirectory.Layout) throws {
        try self.init(of: spec.withAbsolutePaths())
        values["extractor"] = try Self.json(extractor)
        values["split"] = try Self.json(layout.split)
        values["linearize"] = try Self.json(layout.linearize)
        values["parametrization"] = try Self.json(layout.parametrization.rawValue)
        values["standardize"] = try Self.json(layout.standardize)
    }

    /// A 64-bit FNV-1a hash of the sorted keys and values, as hex.
    public var hash: String {
        var hash = FNV1a64()
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            for byte in "\(key)=\(value)\n".utf8 { hash.combine(UInt64(byte)) }
        }
        return hash.hex
    }

    /// The keys whose values differ from `other`'s, as `key = mine (other: theirs)`, or nil when none do. A key
    /// only one side has counts when the other side has it too: older checkpoints lack newer keys.
    public func differences(from other: Trajectory, mine: String, theirs: String) -> String? {
        let keys = Set(values.keys).intersection(other.values.keys).sorted()
        let differing = keys.filter { values[$0] != other.values[$0] }
        guard !differing.isEmpty else { return nil }
        return differing.prefix(5).map { "\($0) = \(values[$0]!) in \(mine) but \(other.values[$0]!) in \(theirs)" }
            .joined(separator: "; ") + (differing.count > 5 ? "; and \(differing.count - 5) more keys" : "")
    }

    private static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
