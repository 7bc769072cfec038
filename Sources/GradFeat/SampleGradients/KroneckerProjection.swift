import Layers
import Tensor

/// A seeded random projection of per-sample gradients to K dimensions that uses each layer's structure.
///
/// A weight-and-bias layer's gradient is a matrix `M = [∂W | ∂b]` of shape [O, I+1]; its block of the projection is
/// `A M Bᵀ` with Gaussian factors `A` [a, O] and `B` [b, I+1] (entries `N(0, 1/a)` and `N(0, 1/b)`), that is
/// `(A ⊗ B) vec(M)`, a·b dimensions. With the factored gradient `M = Σₚ δₚ [zₚ; 1]ᵀ` it applies as
/// ```
/// A M Bᵀ = Σₚ (A δₚ)(B [zₚ; 1])ᵀ
/// ```
/// without forming `M` (the idea of LoGra, Choe et al. 2024): for `bigan-cifar`'s conv5 (P = 1, 512×4097) and
/// K = 4096 that is 64·512 + 64·4097 multiply-adds a sample instead of 8.6M for a dense Gaussian.
///
/// K is split evenly over the linearized layers and each block's `a·b = K/L` is factored as close to square as the
/// layer allows (`a ≤ O`, `b ≤ I+1`). Inner products are preserved in expectation, `E⟨Px, Py⟩ = ⟨x, y⟩`. The
/// price of the structure is variance: for a rank-one gradient (a dense layer, a 1×1 output) the squared norm's
/// relative variance is `(1 + 2/a)(1 + 2/b) − 1 ≈ 2/a + 2/b` against `2/K` for a dense Gaussian of the same K.
public struct KroneckerProjection: Sendable {
    /// One layer's factors `A` [a, O] and `B` [b, I+1 or I].
    public struct Block: Sendable {
        public let outputFactor: Tensor
        public let inputFactor: Tensor
        public var dimension: Int { outputFactor.shape[0] * inputFactor.shape[0] }
    }

    public let blocks: [Block]
    public let seed: UInt64
    /// K = Σ a·b.
    public var dimension: Int { blocks.reduce(0) { $0 + $1.dimension } }

    /// A projection to `dimension` for layers with the given factor shapes.
    ///
    /// - Throws: when `dimension` does not split evenly over the layers, exceeds a layer's parameter count, or has
    ///   no factorization `a·b` that fits a layer.
    ///
    /// `option` names the setting in messages (`--projection`, or an extractor's option).
    public init(dimension: Int, layers: [(outputs: Int, columns: Int)], seed: UInt64, option: String = "--projection")
        throws
    {
        guard dimension > 0, !layers.isEmpty else {
            throw GradFeatError.invalidConfiguration("\(option) must be a positive number of dimensions")
        }
        let total = layers.reduce(0) { $0 + $1.outputs * $1.columns }
        guard dimension <= total else {
            throw GradFeatError.invalidConfiguration(
                "\(option) \(dimension) is larger than |θ2| = \(total): a projection cannot add dimensions; "
                    + "choose at most \(total), or omit \(option) for the exact gradients")
        }
        guard dimension % layers.count == 0 else {
            throw GradFeatError.invalidConfiguration(
                "\(option) \(dimension) does not split evenly over the \(layers.count) linearized weight layers; "
                    + "choose a multiple of \(layers.count)")
        }
        let perLayer = dimension / layers.count
        var blocks: [Block] = []
        for (index, layer) in layers.enumerated() {
            guard let (a, b) = Self.factor(perLayer, maxOutputs: layer.outputs, maxColumns: layer.columns) else {
                throw GradFeatError.invalidConfiguration(
                    "\(option) \(dimension) gives layer \(index + 1) (\(layer.outputs)×\(layer.columns) parameters) "
                        + "\(perLayer) dimensions, which factor into no a·b with a ≤ \(layer.outputs) and "
                        + "b ≤ \(layer.columns); choose K so that K/\(layers.count) is a product a·b within those "
                        + "bounds (a power of two up to \(Self.largestSquare(layer.outputs, layer.columns)) works)")
            }
            var rng = SeededRandom(seed: seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
            let outputFactor = Tensor.normal([a, layer.outputs], std: 1 / Float(a).squareRoot(), using: &rng)
            let inputFactor = Tensor.normal([b, layer.columns], std: 1 / Float(b).squareRoot(), using: &rng)
            blocks.append(Block(outputFactor: outputFactor, inputFactor: inputFactor))
        }
        self.blocks = blocks
        self.seed = seed
    }

    /// A projection for the layers whose factors these are.
    public init(dimension: Int, for factors: [SampleGradientFactors], seed: UInt64) throws {
        try self.init(
            dimension: dimension,
            layers: factors.map { ($0.outputs, $0.inputs + ($0.hasBias ? 1 : 0)) }, seed: seed)
    }

    /// The largest power of two 4ʲ with 2ʲ ≤ both bounds: a share that always factors.
    static func largestSquare(_ outputs: Int, _ columns: Int) -> Int {
        var side = 1
        while side * 2 <= min(outputs, columns) { side *= 2 }
        return side * side
    }

    /// The divisor pair `a·b = k` closest to square with `a ≤ maxOutputs`, `b ≤ maxColumns`.
    static func factor(_ k: Int, maxOutputs: Int, maxColumns: Int) -> (Int, Int)? {
        var best: (Int, Int)?
        var a = 1
        while a * a <= k {
            if k % a == 0 {
                for (x, y) in [(a, k / a), (k / a, a)] where x <= maxOutputs && y <= maxColumns {
                    if let (bx, by) = best, abs(x - y) >= abs(bx - by) { continue }
                    best = (x, y)
                }
            }
            a += 1
        }
        return best
    }
}
