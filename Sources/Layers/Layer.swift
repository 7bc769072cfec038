// GradFeat layers: forward, forward-mode (JVP) and reverse-mode (VJP) derivatives.
// Reference: F. Mu, Y. Liang, Y. Li, "Gradients as Features for Deep Representation Learning", ICLR 2020.
import Tensor

/// Training or evaluation behaviour (batch norm statistics, dropout), with the seed that makes dropout repeatable.
public struct Mode: Sendable, Equatable {
    public var isTraining: Bool
    /// Seeds stochastic layers; the trainer changes it every step so masks differ between steps but not reruns.
    public var seed: UInt64

    public static let evaluation = Mode(isTraining: false, seed: 0)
    public static func training(seed: UInt64 = 0) -> Mode { Mode(isTraining: true, seed: seed) }
}

/// What a layer's forward pass keeps for its backward pass.
public struct Record: Sendable {
    /// The input the layer saw (shares storage with the caller's tensor; no copy).
    public var input: Tensor
    /// Layer-specific tensors (normalised input, dropout mask, …).
    public var saved: [Tensor] = []
    /// Arg-max positions of max pooling.
    public var indices: [Int32] = []
    /// The records of sub-layers, in order.
    public var children: [Record] = []

    public init(input: Tensor, saved: [Tensor] = [], indices: [Int32] = [], children: [Record] = []) {
        self.input = input
        self.saved = saved
        self.indices = indices
        self.children = children
    }
}

/// The result of a forward pass: the value, its tangent when one was propagated, and the record for `vjp`.
public struct LayerOutput: Sendable {
    public var value: Tensor
    /// `∂value/∂input · tangent + ∂value/∂θ · parameterTangent`; nil when both tangents were absent (zero).
    public var tangent: Tensor?
    public var record: Record

    public init(value: Tensor, tangent: Tensor?, record: Record) {
        self.value = value
        self.tangent = tangent
        self.record = record
    }
}

/// The result of a backward pass.
public struct Gradients: Sendable {
    /// `Jₓᵀ g`, nil when it was not asked for.
    public var input: Tensor?
    /// `J_θᵀ g`, one tensor per parameter in `parameters` order.
    public var parameters: [Tensor]

    public init(input: Tensor?, parameters: [Tensor]) {
        self.input = input
        self.parameters = parameters
    }
}

/// A differentiable layer: a map `y = f(x; θ)` with its Jacobian–vector and vector–Jacobian products.
///
/// GradFeat needs the forward-mode product with *both* an input tangent and a parameter tangent:
/// ```
/// ẏ = ∂f/∂x · ẋ + ∂f/∂θ · θ̇
/// ```
/// and its adjoint, which is ordinary backpropagation at the primal point:
/// ```
/// (x̄, θ̄) = ((∂f/∂x)ᵀ ȳ, (∂f/∂θ)ᵀ ȳ)
/// ```
public protocol Layer: Sendable {
    /// Trainable parameters, in a fixed order (PyTorch's state-dict order).
    var parameters: [Tensor] { get set }
    /// Names of `parameters` as in PyTorch's state dict, relative to this layer ("weight", "conv1.bias").
    var parameterNames: [String] { get }
    /// Non-trainable state that is saved with the weights (batch norm running statistics).
    var buffers: [Tensor] { get set }
    var bufferNames: [String] { get }

    /// The output shape for an input shape; throws with both shapes named when the input does not fit.
    func outputShape(for input: Shape) throws -> Shape

    /// The forward pass; with a tangent and/or a parameter tangent it also propagates the JVP.
    /// A nil tangent means zero, so a layer that receives neither does no tangent work at all.
    func apply(_ input: Tensor, tangent: Tensor?, parameterTangent: [Tensor]?, mode: Mode) throws -> LayerOutput

    /// The backward pass at the point recorded by `apply`.
    func vjp(_ record: Record, outputGradient: Tensor, needInputGradient: Bool, mode: Mode) throws -> Gradients

    /// The forward pass alone, without a record for a backward pass: `apply`'s value by default; `Sequential` and
    /// `Residual` fuse each convolution with the activation after it (one pass over the output instead of three).
    func forward(_ input: Tensor, mode: Mode) throws -> Tensor

    /// Folds the batch statistics recorded in training mode into running statistics (batch norm only).
    mutating func updateStatistics(from record: Record)
}

extension Layer {
    public var buffers: [Tensor] {
        get { [] }
        set {}
    }
    public var bufferNames: [String] { [] }
    public mutating func updateStatistics(from record: Record) {}

    /// The total number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    public func forward(_ input: Tensor, mode: Mode) throws -> Tensor {
        try apply(input, tangent: nil, parameterTangent: nil, mode: mode).value
    }

    /// The forward pass alone, in evaluation mode.
    public func forward(_ input: Tensor) throws -> Tensor { try forward(input, mode: .evaluation) }

    /// The forward pass and its Jacobian–vector product (zero where a tangent is nil).
    public func jvp(
        _ input: Tensor, tangent: Tensor?, parameterTangent: [Tensor]? = nil, mode: Mode = .evaluation
    ) throws -> (value: Tensor, tangent: Tensor) {
        let output = try apply(input, tangent: tangent, parameterTangent: parameterTangent, mode: mode)
        return (output.value, output.tangent ?? .zeros(like: output.value))
    }

    /// The forward pass followed by the vector–Jacobian product for `outputGradient`.
    public func vjp(
        _ input: Tensor, outputGradient: Tensor, mode: Mode = .evaluation
    ) throws -> (value: Tensor, gradients: Gradients) {
        let output = try apply(input, tangent: nil, parameterTangent: nil, mode: mode)
        let gradients = try vjp(output.record, outputGradient: outputGradient, needInputGradient: true, mode: mode)
        return (output.value, gradients)
    }

    /// Parameters and buffers by their PyTorch names, as saved in a weights file.
    public var stateDict: [(name: String, value: Tensor)] {
        Array(zip(parameterNames, parameters)) + Array(zip(bufferNames, buffers)).map { ($0.0, $0.1) }
    }

    /// Throws unless `parameterTangent` (when present) matches `parameters` one to one in shape.
    func checkParameterTangent(_ parameterTangent: [Tensor]?, _ operation: String) throws {
        guard let parameterTangent else { return }
        guard parameterTangent.count == parameters.count else {
            throw TensorError.invalidArgument(
                "\(operation): parameter tangent has \(parameterTangent.count) tensors, expected \(parameters.count)")
        }
        for (tangent, parameter) in zip(parameterTangent, parameters) {
            try tangent.check(parameter.shape, "\(operation) parameter tangent")
        }
    }
}
