import Tensor

/// A layer whose parameters are a weight and an optional bias, named as PyTorch names them (`weight`, `bias`).
public protocol WeightAndBiasLayer: Layer {
    var weight: Tensor { get set }
    var bias: Tensor? { get set }
}

extension WeightAndBiasLayer {
    public var parameters: [Tensor] {
        get { bias.map { [weight, $0] } ?? [weight] }
        set {
            weight = newValue[0]
            if bias != nil { bias = newValue[1] }
        }
    }
    public var parameterNames: [String] { bias == nil ? ["weight"] : ["weight", "bias"] }
}
