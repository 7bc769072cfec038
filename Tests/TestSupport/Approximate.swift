import Tensor

/// `‖a − b‖ / max(‖b‖, floor)`: the relative error of `a` against the reference `b`, in Double.
public func relativeError(_ a: Tensor, _ b: Tensor, floor: Double = 1e-12) -> Double {
    guard a.shape == b.shape else { return .infinity }
    var difference = 0.0, reference = 0.0
    for i in 0..<a.count {
        let d = Double(a.scalars[i]) - Double(b.scalars[i])
        difference += d * d
        reference += Double(b.scalars[i]) * Double(b.scalars[i])
    }
    return difference.squareRoot() / max(reference.squareRoot(), floor)
}

/// `|a − b| / max(|a|, |b|, floor)`.
public func relativeError(_ a: Double, _ b: Double, floor: Double = 1e-12) -> Double {
    abs(a - b) / max(abs(a), abs(b), floor)
}

/// A tensor of the given shape with standard normal entries.
public func randomTensor(_ shape: Shape, _ rng: inout SeededRandom, scale: Float = 1) -> Tensor {
    Tensor.normal(shape, std: scale, using: &rng)
}
