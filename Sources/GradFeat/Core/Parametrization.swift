// GradFeat: Mu, Liang, Li, "Gradients as Features for Deep Representation Learning", ICLR 2020.
import Tensor

/// How a trainable tensor is stored relative to the value the network uses.
///
/// The authors train the linearized layers and the head in the NTK parametrization: a stored weight `V` acts as
/// `√(1/n_out) · V` and a stored bias `β` as `√0.1 · β` (their code scales by the layer's output width):
/// ```
/// W = √(1/n_out) · V,    b = √0.1 · β
/// ```
/// The choice changes the scale of the gradient features and so the optimisation, not the model class.
public enum Parametrization: String, Sendable, Codable, CaseIterable {
    case standard
    case ntk

    /// The authors' convention.
    public static let `default` = Parametrization.ntk

    /// The factor `c` in `effective = c · stored` for a parameter of this shape: rank 1 is a bias, otherwise the
    /// first dimension is the output width.
    public func scale(for shape: Shape) -> Float {
        switch self {
        case .standard: return 1
        case .ntk: return shape.rank == 1 ? Float(0.1).squareRoot() : (1 / Float(shape[0])).squareRoot()
        }
    }

    public func scales(for tensors: [Tensor]) -> [Float] { tensors.map { scale(for: $0.shape) } }
}
