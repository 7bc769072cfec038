import Layers
import Tensor

/// An extractor whose logits are affine in its stored parameters `w`,
/// ```
/// F_w(x) = F_0(x) + J(x) w,        J(x) = ∂F/∂w, the same at every w
/// ```
/// so that a quadratic loss gives a quadratic objective (conjugate gradient solves it: `--solver cg`) and
/// cross-entropy a convex one. The activation, gradient, full GradFeat and explicit-gradient models are linear
/// (`F_0 = 0`); fine-tuning is not.
///
/// Conform your own extractor when its logits are affine in its parameters: the default `directionalForward`
/// costs two forward passes (at `v` and at 0); conform to ``LinearInParameters`` instead when `F_0 = 0`, for one.
/// `GradFeatTesting`'s `ExtractorConformance` checks the claim.
public protocol AffineInParameters: FeatureExtractor {
    /// `J(x) v` for a direction `v` shaped like the stored parameters, in evaluation mode, as the logits of an
    /// output whose `parameterGradients` apply `Jᵀ` (the tangent pass of the Gauss–Newton operator `JᵀJ`).
    func directionalForward(_ input: Tensor, direction: [Tensor]) throws -> ExtractorOutput<Pass>
}

extension AffineInParameters {
    /// `F_v(x) − F_0(x)`, exact for an affine model.
    public func directionalForward(_ input: Tensor, direction: [Tensor]) throws -> ExtractorOutput<Pass> {
        var along = self, origin = self
        along.parameters = direction
        origin.parameters = direction.map { .zeros(like: $0) }
        var output = try along.forward(input, mode: .evaluation)
        try output.logits.add(try origin.forward(input, mode: .evaluation).logits, scaledBy: -1)
        return output
    }
}

/// An extractor whose logits are linear in its stored parameters, `F_w(x) = J(x) w` (no offset): its forward
/// pass at `v` is `J(x) v`.
public protocol LinearInParameters: AffineInParameters {}

extension LinearInParameters {
    public func directionalForward(_ input: Tensor, direction: [Tensor]) throws -> ExtractorOutput<Pass> {
        var along = self
        along.parameters = direction
        return try along.forward(input, mode: .evaluation)
    }
}

extension ActivationFeatures: LinearInParameters {}
extension GradientFeatures: LinearInParameters {}
extension GradFeatFeatures: LinearInParameters {}
extension ExplicitGradientFeatures: LinearInParameters {}
