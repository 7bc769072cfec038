import Foundation
import Tensor

/// An optimiser updates parameters from their gradients and keeps state that a checkpoint can save and restore.
public protocol Optimizer: Sendable {
    var learningRate: Float { get set }
    /// Updates taken so far.
    var step: Int { get set }
    /// Per-parameter state (momentum buffers, Adam moments), in a fixed order, for checkpoints.
    var state: [Tensor] { get set }
    var stateNames: [String] { get }

    /// One update of `parameters` from `gradients` (same order and shapes).
    mutating func update(_ parameters: inout [Tensor], gradients: [Tensor]) throws
}

extension Optimizer {
    func checkGradients(_ parameters: [Tensor], _ gradients: [Tensor]) throws {
        guard parameters.count == gradients.count else {
            throw TensorError.invalidArgument(
                "optimiser: \(gradients.count) gradients for \(parameters.count) parameters")
        }
        for (p, g) in zip(parameters, gradients) { try g.check(p.shape, "optimiser gradient") }
    }
}

/// Rescales gradients so that their joint L2 norm is at most `maxNorm` (PyTorch's `clip_grad_norm_`).
/// Returns the norm before clipping; throws when it is not finite (a diverged step).
@discardableResult
public func clipGradientNorm(_ gradients: inout [Tensor], maxNorm: Float) throws -> Float {
    let norm = Float(gradients.reduce(0) { $0 + $1.squaredNorm() }.squareRoot())
    guard norm.isFinite else {
        throw TensorError.nonFinite(what: "gradient norm (the model diverged: lower the learning rate)")
    }
    if norm > maxNorm {
        let scale = maxNorm / (norm + 1e-6)
        for i in gradients.indices { gradients[i].scale(by: scale) }
    }
    return norm
}

/// The learning rate multiplied by `factor` every `stepSize` iterations:
/// ```
/// lr(t) = base · factor^⌊t / stepSize⌋
/// ```
public struct StepSchedule: Sendable, Equatable, Codable {
    public var base: Float
    public var factor: Float
    public var stepSize: Int

    public init(base: Float, factor: Float = 0.5, stepSize: Int) {
        self.base = base
        self.factor = factor
        self.stepSize = stepSize
    }

    public func learningRate(at iteration: Int) -> Float {
        guard stepSize > 0 else { return base }
        return base * pow(factor, Float(iteration / stepSize))
    }
}
