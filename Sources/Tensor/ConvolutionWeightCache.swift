/// The Winograd transform `U = G W Gᵀ` of one convolution's weights, computed on first use and kept for as long as
/// the weights stay the same: the frozen layers of every GradFeat model (θ1, and θ2 at its linearization point) then
/// transform their weights once instead of in every forward, tangent and input-gradient pass.
///
/// The owner of the weights must replace its cache whenever it changes them (`Conv2D` does so in `weight`'s
/// `didSet`); copies of the owner may share one cache until then. Safe to use from several threads.
public final class ConvolutionWeightCache: Sendable {
    /// The transforms held, by algorithm (a geometry may run one forward and another backward).
    private let transformed = Locked<[Variant: [Float]]>([:])

    enum Variant: Hashable, Sendable {
        case f2x3
        case cookToom(outputTile: Int)
    }

    public init() {}

    /// Whether a transform is held (for tests).
    public var isFilled: Bool { transformed.withLock { !$0.isEmpty } }

    /// Runs `body` with `U` for `weight` in `variant`, transforming it first if this cache does not hold it;
    /// `transform` must write all `count` floats.
    func withTransformed(
        _ weight: UnsafePointer<Float>, variant: Variant, count: Int,
        transform: (UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void, _ body: (UnsafePointer<Float>) -> Void
    ) {
        // The array is never written after it is stored, so reading it outside the lock is safe.
        let u: [Float] = transformed.withLock { stored in
            if let held = stored[variant], held.count == count { return held }
            let fresh = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                transform(weight, buffer.baseAddress!)
                initialized = buffer.count
            }
            stored[variant] = fresh
            return fresh
        }
        u.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
