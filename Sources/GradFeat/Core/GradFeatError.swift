/// Errors of the GradFeat core, each with what to do about it.
public enum GradFeatError: Error, CustomStringConvertible, Sendable {
    case unknownModel(String, known: [String])
    case unknownExtractor(String, known: [String])
    case unknownLayer(String, model: String, known: [String])
    case invalidConfiguration(String)
    case diverged(iteration: Int, detail: String)
    case checkpointMismatch(String)

    public var description: String {
        switch self {
        case let .unknownModel(name, known):
            return "unknown model '\(name)'; choose one of: \(known.joined(separator: ", "))"
        case let .unknownExtractor(name, known):
            return "unknown extractor '\(name)'; registered extractors are: \(known.joined(separator: ", ")) "
                + "(register your own with ExtractorRegistry.shared.register)"
        case let .unknownLayer(name, model, known):
            return "model '\(model)' has no layer '\(name)'; its layers are: \(known.joined(separator: ", "))"
        case let .invalidConfiguration(message):
            return message
        case let .diverged(iteration, detail):
            return "training diverged at iteration \(iteration): \(detail). Lower the learning rate, enable gradient "
                + "clipping (--clip 10) or resume from the last checkpoint"
        case let .checkpointMismatch(message):
            return "checkpoint does not match this run: \(message)"
        }
    }
}
