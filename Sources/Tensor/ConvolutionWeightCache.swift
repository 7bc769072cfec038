import Synchronization

/// The Winograd transform `U = G W Gᵀ` of one convolution's weights, computed on first use and kept for as long as
/// the weights stay the same: the frozen layers of every GradFeat model (θ1, and θ2 at its linearization point) then
/// transform their weights once instead of in every forward, tangent and input-gradient pass.
///
/// The owner of the weights must replace its cache whenever it changes them (`Conv2D` does so in `weight`'s
/// `didSet`); copies of the owner may share one cache until then. Safe to use from several threads.
public final class ConvolutionWeightCache: Sendable {
    private let transformed = Mutex<[Float]?>(nil)

    public init() {}

    /// Whether a transform is held (for tests).
    public var isFilled: Bool { transformed.withLock { $0 != nil } }

    /// Runs `body` with `U` for `weight` under `geometry`, transforming it first if this cache is empty. `nil` when
    /// the geometry does not run Winograd.
    func withTransformed(
        _ weight: UnsafePointer<Float>, geometry: ConvolutionGeometry, _ body: (UnsafePointer<Float>?) -> Void
    ) {
        guard geometry.usesWinograd else { return body(nil) }
        let winograd = WinogradF2x3(geometry)
        // The array is never written after it is stored, so reading it outside the lock is safe.
        let u: [Float] = transformed.withLock { stored in
            if let stored, stored.count == winograd.transformedWeightCount { return stored }
            let fresh = [Float](unsafeUninitializedCapacity: winograd.transformedWeightCount) { buffer, initialized in
                buffer.initialize(repeating: 0)  // the padding between blocks
                winograd.transformWeights(weight, into: buffer.baseAddress!)
                initialized = buffer.count
            }
            stored = fresh
            return fresh
        }
        u.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
