import Layers
import Tensor

/// What an extractor's forward pass returns: the logits, the extractor's own typed record of the pass (what its
/// backward pass needs), the mode it ran in (the backward pass runs in the same one: dropout masks, batch
/// statistics), and the model's two terms where it has them, for reports and `gradfeat predict`.
public struct ExtractorOutput<Pass: Sendable>: Sendable {
    public var logits: Tensor
    /// What this extractor's `parameterGradients` reads, typed by the extractor (`Pass`).
    public var pass: Pass
    /// The mode of the forward pass.
    public var mode: Mode
    /// The activation term `w1ᵀ f(x) + b` and the gradient term `ω̄ᵀ J(x) w2`, where the model has them.
    public var activationTerm: Tensor?
    public var gradientTerm: Tensor?

    public init(logits: Tensor, pass: Pass, mode: Mode, activationTerm: Tensor? = nil, gradientTerm: Tensor? = nil) {
        self.logits = logits
        self.pass = pass
        self.mode = mode
        self.activationTerm = activationTerm
        self.gradientTerm = gradientTerm
    }
}

/// The pass of a top whose backward pass backpropagates through its layers: their record and the features `f`.
public struct TopPass: Sendable {
    public var record: Record
    public var features: Tensor

    public init(record: Record, features: Tensor) {
        self.record = record
        self.features = features
    }
}

/// A model over features of a pre-trained network, trained on the target task: logits from a batch of inputs
/// (cached activations `z0`, or images), and the gradients of a loss with respect to its own parameters.
///
/// The forward pass hands its backward pass a value of the extractor's own type `Pass` (the features, a layer
/// record, …), so the two cannot get out of step and nothing is unwrapped by force; the output also carries the
/// forward pass's `mode` to the backward pass.
///
/// Conform a type and register it in `Plugins.shared.extractors` from a package's executable that runs
/// `GradFeatCLI.main()`: the trainer, every `gradfeat` command, config files and `gradfeat eval --run` then run it
/// unchanged (`gradfeat new-plugin extractor NAME` writes such a package; `docs/PLUGINS.md` explains it).
public protocol FeatureExtractor: Sendable {
    /// What the forward pass keeps for the backward pass.
    associatedtype Pass: Sendable

    /// The trainable tensors as stored (NTK-scaled where the parametrization says so), each with its name
    /// (`parameters` and `parameterNames` read them).
    var namedParameters: NamedParameters { get set }

    func forward(_ input: Tensor, mode: Mode) throws -> ExtractorOutput<Pass>

    /// `∂L/∂parameters` given `∂L/∂logits` for the batch of `output`, in `output.mode`.
    func parameterGradients(_ output: ExtractorOutput<Pass>, logitsGradient: Tensor) throws -> [Tensor]

    /// Called after each training step (batch norm running statistics); most extractors are frozen and do nothing.
    mutating func updateStatistics(_ output: ExtractorOutput<Pass>)

    /// Whether ``updateStatistics(_:)`` changes anything (a trained network with batch norm): such an extractor is
    /// not micro-batched, since each micro-batch would see other statistics.
    var updatesStatisticsInTraining: Bool { get }

    /// Applies `update` to the stored parameters in place; extractors whose parameters are stored properties
    /// avoid the copy that `get` + `set` would make of every tensor at every step (`StoredParameterExtractor`).
    mutating func updateParameters(_ update: (inout [Tensor]) throws -> Void) rethrows
}

extension FeatureExtractor {
    /// The trainable tensors, in the order of `parameterNames`.
    public var parameters: [Tensor] {
        get { namedParameters.tensors }
        set { namedParameters.tensors = newValue }
    }

    public var parameterNames: [String] { namedParameters.names }

    public mutating func updateStatistics(_ output: ExtractorOutput<Pass>) {}

    public var updatesStatisticsInTraining: Bool { false }

    public mutating func updateParameters(_ update: (inout [Tensor]) throws -> Void) rethrows {
        var values = parameters
        try update(&values)
        parameters = values
    }

    /// The logits in evaluation mode.
    public func logits(_ input: Tensor) throws -> Tensor { try forward(input, mode: .evaluation).logits }

    /// The logits and the model's two terms (where it has them) in evaluation mode.
    public func evaluationTerms(_ input: Tensor) throws -> (logits: Tensor, activation: Tensor?, gradient: Tensor?) {
        let output = try forward(input, mode: .evaluation)
        return (output.logits, output.activationTerm, output.gradientTerm)
    }

    /// One forward and backward pass: the logits and `∂L/∂parameters` for the logits' gradient that `loss` gives.
    public func gradients(
        _ input: Tensor, mode: Mode, logitsGradient: (Tensor) throws -> Tensor
    ) throws -> (logits: Tensor, gradients: [Tensor]) {
        let output = try forward(input, mode: mode)
        return (output.logits, try parameterGradients(output, logitsGradient: try logitsGradient(output.logits)))
    }

    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

}

/// An extractor whose stored parameters are a plain stored property: updated in place, and movable out without a
/// copy (the full model concatenates its two parts' parameters this way). Conform your own extractor to it when its
/// `namedParameters` is a stored `var`, and the optimiser updates them without copying every tensor at every step.
public protocol StoredParameterExtractor: FeatureExtractor {}

extension StoredParameterExtractor {
    public mutating func updateParameters(_ update: (inout [Tensor]) throws -> Void) rethrows {
        try update(&namedParameters.tensors)
    }

    /// The parameters, leaving this extractor without them until they are set again (unique storage, no copy).
    public mutating func takeParameters() -> [Tensor] {
        defer { namedParameters.tensors = [] }
        return namedParameters.tensors
    }
}

/// The gradients of a linear head `F = f Wᵀ + b`: `∂L/∂W = gᵀ f`, `∂L/∂b = Σ g`, for logits gradient g [N, c].
public func linearHeadGradients(features f: Tensor, logitsGradient g: Tensor) throws -> [Tensor] {
    let (n, d, c) = (f.shape[0], f.shape[1], g.shape[1])
    var dWeight = Tensor.zeros([c, d]), dBias = Tensor.zeros([c])
    g.withUnsafeBufferPointer { gp in
        f.withUnsafeBufferPointer { fp in
            dWeight.withUnsafeMutableBufferPointer { dw in
                dBias.withUnsafeMutableBufferPointer { db in
                    LinearKernels.parameterGradients(
                        g: gp.baseAddress!, x: fp.baseAddress!, dWeight: dw.baseAddress!, dBias: db.baseAddress!,
                        n: n, inputs: d, outputs: c)
                }
            }
        }
    }
    return [dWeight, dBias]
}

/// `g ω` for logits gradient g [N, c] and head weight ω [c, d]: the cotangent of the features.
public func featureCotangent(_ g: Tensor, headWeight omega: Tensor) -> Tensor {
    let (n, c, d) = (g.shape[0], omega.shape[0], omega.shape[1])
    var out = Tensor.zeros([n, d])
    g.withUnsafeBufferPointer { gp in
        omega.withUnsafeBufferPointer { wp in
            out.withUnsafeMutableBufferPointer { op in
                LinearKernels.inputGradient(
                    g: gp.baseAddress!, weight: wp.baseAddress!, dx: op.baseAddress!, n: n, inputs: d, outputs: c)
            }
        }
    }
    return out
}
