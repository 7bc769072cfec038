/// Errors of the GradFeat core, each with what to do about it.
public enum GradFeatError: Error, CustomStringConvertible, Sendable, Equatable {
    /// `name` is not registered among the plugins of `kind` ("extractor", "model", "head", "data set").
    case unknownName(kind: String, name: String, known: [String])
    /// `name` was registered twice, at `first` and at `second` (`file:line`).
    case duplicateRegistration(kind: String, name: String, first: String, second: String)
    case unknownLayer(String, model: String, known: [String])
    case invalidConfiguration(String)
    case diverged(iteration: Int, detail: String)
    case checkpointMismatch(String)
    /// A full-batch solver could not go on (a non-finite residual, an operator that is not positive definite).
    case solverFailed(iteration: Int, detail: String)
    /// A data file that is damaged, truncated or changed under a reader: `problem` says how, `fix` what to do.
    case damagedFile(path: String, problem: String, fix: String)

    /// An unknown model name.
    public static func unknownModel(_ name: String, known: [String]) -> GradFeatError {
        .unknownName(kind: "model", name: name, known: known)
    }

    /// An unknown extractor name.
    public static func unknownExtractor(_ name: String, known: [String]) -> GradFeatError {
        .unknownName(kind: "extractor", name: name, known: known)
    }

    public var description: String {
        switch self {
        case let .unknownName(kind, name, known):
            return "unknown \(kind) '\(name)'; registered: \(known.joined(separator: ", ")) (`gradfeat list` shows "
                + "them; register your own in `Plugins.shared` before running the CLI)"
        case let .duplicateRegistration(kind, name, first, second):
            return "\(kind) '\(name)' is registered twice: at \(first) and at \(second); give one of them another name"
        case let .unknownLayer(name, model, known):
            return "model '\(model)' has no layer '\(name)'; its layers are: \(known.joined(separator: ", "))"
        case let .invalidConfiguration(message):
            return message
        case let .diverged(iteration, detail):
            return "training diverged at iteration \(iteration): \(detail). Lower the learning rate, enable gradient "
                + "clipping (--clip 10) or resume from the last checkpoint"
        case let .solverFailed(iteration, detail):
            return "the solver stopped at iteration \(iteration): \(detail)"
        case let .checkpointMismatch(message):
            return "checkpoint does not match this run: \(message)"
        case let .damagedFile(path, problem, fix):
            return "\(path): \(problem); \(fix)"
        }
    }
}
