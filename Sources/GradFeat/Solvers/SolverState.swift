/// Where a full-batch solver stands between two iterations — its Float64 vectors (iterate, residual, search
/// direction, L-BFGS's memory) and numbers — so that a checkpoint resumes the solve bit for bit. Stored in a
/// checkpoint's `/solver` group (`docs/FORMATS.md`).
public struct SolverState: Sendable, Equatable {
    public var vectors: [String: [Double]]
    public var numbers: [String: Double]

    public init(vectors: [String: [Double]] = [:], numbers: [String: Double] = [:]) {
        self.vectors = vectors
        self.numbers = numbers
    }

    /// The vector `name` cut into `shapes`, or an error naming what the checkpoint lacks.
    func vector(_ name: String, like template: ParameterVector) throws -> ParameterVector {
        guard let values = vectors[name], values.count == template.count else {
            throw GradFeatError.checkpointMismatch(
                "its solver state has no vector '\(name)' of \(template.count) values (found "
                    + "\(vectors[name].map { "\($0.count)" } ?? "none")); it was written by another solver or "
                    + "model: resume with the options it was trained with")
        }
        return ParameterVector(values: values, shapes: template.shapes)
    }

    func number(_ name: String) throws -> Double {
        guard let value = numbers[name] else {
            throw GradFeatError.checkpointMismatch(
                "its solver state has no number '\(name)'; it was written by another solver: resume with the options "
                    + "it was trained with")
        }
        return value
    }
}
