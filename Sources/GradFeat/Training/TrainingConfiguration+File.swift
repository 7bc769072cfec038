import Foundation

extension TrainingConfiguration {
    /// The training keys a configuration file may set (those of checkpoints and `config.json` too).
    public static var fileKeys: [String] { CodingKeys.allCases.map(\.rawValue) }

    /// The keys of a configuration file that name the run rather than the optimiser, and the command-line options
    /// they stand for (the CLI reads them; `init(contentsOf:over:)` skips them): the data set, the network, which
    /// models (`mode`: activation, gradient, gradfeat, finetune or a registered extractor, as a list or
    /// comma-separated), the linearized (and fine-tuned) layers, the θ1/θ2 split and the output folder.
    public static let runKeys: KeyValuePairs<String, String> = [
        "dataset": "--dataset", "data_dir": "--data-dir", "image_size": "--image-size", "train_size": "--train-size",
        "test_size": "--test-size", "model": "--model", "weights": "--weights", "mode": "--extractor",
        "linearize": "--linearize", "split": "--split", "parametrization": "--parametrization", "output": "--output",
    ]

    /// The top-level mapping of a configuration file (JSON, or the YAML subset), as JSON values.
    ///
    /// - Throws: `YAMLSubset.Error` for YAML it does not read; `GradFeatError.invalidConfiguration`, naming the
    ///   file, for a missing file, another extension, or anything but a mapping at the top level.
    public static func fileMapping(contentsOf url: URL) throws -> [String: Any] {
        let path = url.path
        func failure(_ message: String) -> GradFeatError { .invalidConfiguration("config file \(path): \(message)") }
        guard FileManager.default.fileExists(atPath: path) else { throw failure("no such file") }
        let data: Data
        switch url.pathExtension.lowercased() {
        case "json":
            data = try Data(contentsOf: url)
        case "yaml", "yml":
            let value = try YAMLSubset.parse(contentsOf: url)
            do {
                data = try (value == .null ? .mapping([:]) : value).jsonData()
            } catch {
                throw failure("it holds .inf or .nan, which no key takes; write a finite number")
            }
        default:
            throw failure("unknown kind of file; name it .json, .yaml or .yml")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? error.localizedDescription
            throw failure("not valid JSON (\(detail))")
        }
        guard let keys = object as? [String: Any] else {
            throw failure("expected a mapping of keys (optim, lr, batchsize, …) at the top level")
        }
        return keys
    }

    /// `base` with the training keys of a configuration file laid over it.
    ///
    /// The file is JSON (`.json`) or YAML (`.yaml`, `.yml`: the subset `YAMLSubset` reads) holding one mapping of
    /// the released PyTorch code's keys: `optim` (adam or sgd), `lr`, `wd`, `momentum`, `beta1`, `beta2`,
    /// `batchsize`, `niter`, `stepsize`, `stepfactor`, and ours, `clip`, `eval_every`, `checkpoint_every`, `seed`.
    /// The run keys (`runKeys`: dataset, model, mode, linearize, …) are skipped here; the CLI turns them into
    /// options. Both formats become the same JSON object and go through one `Decodable` path; keys the file leaves
    /// out keep `base`'s values (a preset). Values are not range-checked here: call `validate()` once command-line
    /// overrides are applied.
    ///
    /// ```yaml
    /// optim: sgd
    /// lr: 0.1        # halved every stepsize iterations
    /// batchsize: 128
    /// clip: 10
    /// ```
    ///
    /// - Throws: `YAMLSubset.Error` (file, line, fix) for YAML syntax it does not read;
    ///   `GradFeatError.invalidConfiguration`, naming the file, for a missing file, another extension, an unknown
    ///   key or a value of the wrong type.
    public init(contentsOf url: URL, over base: TrainingConfiguration) throws {
        let path = url.path
        func failure(_ message: String) -> GradFeatError { .invalidConfiguration("config file \(path): \(message)") }
        let runKeys = Set(Self.runKeys.map(\.key))
        let keys = try Self.fileMapping(contentsOf: url).filter { !runKeys.contains($0.key) }
        let unknown = keys.keys.filter { !Self.fileKeys.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw failure(
                "unknown key\(unknown.count > 1 ? "s" : "") \(unknown.map { "'\($0)'" }.joined(separator: ", ")); "
                    + "the training keys are \(Self.fileKeys.joined(separator: ", ")) and the run keys "
                    + "\(Self.runKeys.map(\.key).joined(separator: ", "))")
        }
        guard var merged = try JSONSerialization.jsonObject(with: JSONEncoder().encode(base)) as? [String: Any] else {
            throw failure("the base configuration does not encode as a mapping")
        }
        merged.merge(keys) { $1 }
        do {
            self = try JSONDecoder().decode(
                TrainingConfiguration.self, from: try JSONSerialization.data(withJSONObject: merged))
        } catch let error as DecodingError {
            throw failure(Self.describe(error))
        }
    }

    /// A decoding error in the words of the file's keys.
    static func describe(_ error: DecodingError) -> String {
        func key(_ context: DecodingError.Context) -> String {
            context.codingPath.map(\.stringValue).joined(separator: ".")
        }
        func kind(_ type: Any.Type) -> String {
            switch type {
            case is Float.Type, is Double.Type, is Float?.Type: return "a number"
            case is Int.Type, is UInt64.Type: return "an integer"
            case is OptimizerKind.Type: return "adam or sgd"
            default: return "a \(type)"
            }
        }
        switch error {
        case let .typeMismatch(type, context):
            return "'\(key(context))' must be \(kind(type))"
        case let .valueNotFound(type, context):
            return "'\(key(context))' must be \(kind(type)), not null"
        case let .dataCorrupted(context):
            let hint = key(context) == CodingKeys.optimizer.rawValue ? " (optim is adam or sgd)" : ""
            return "'\(key(context))': \(context.debugDescription)\(hint)"
        case let .keyNotFound(missing, _):
            return "missing key '\(missing.stringValue)'"
        @unknown default:
            return "\(error)"
        }
    }
}
