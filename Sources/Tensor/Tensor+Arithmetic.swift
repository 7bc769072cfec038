/// Element-wise kernels and reductions on unsafe buffers.
extension Tensor {
    /// Applies `body` to this tensor's storage and `other`'s after checking that the shapes agree.
    @inlinable
    mutating func combine(
        _ other: Tensor, _ operation: String,
        _ body: (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int) -> Void
    ) throws {
        try other.check(shape, operation)
        let count = self.count
        other.withUnsafeBufferPointer { source in
            withUnsafeMutableBufferPointer { target in body(target.baseAddress!, source.baseAddress!, count) }
        }
    }

    /// `self += alpha · other`.
    public mutating func add(_ other: Tensor, scaledBy alpha: Float = 1) throws {
        try combine(other, "add") { y, x, n in BLAS.axpy(n, alpha: alpha, x: x, y: y) }
    }

    /// `self *= other` element-wise.
    public mutating func multiply(by other: Tensor) throws {
        try combine(other, "multiply") { y, x, n in for i in 0..<n { y[i] *= x[i] } }
    }

    /// `self *= alpha`.
    public mutating func scale(by alpha: Float) {
        let n = count
        withUnsafeMutableBufferPointer { BLAS.scale($0.baseAddress!, count: n, by: alpha) }
    }

    /// Row `i` (along the first dimension) times `factors[i]`; `factors` has one entry per row.
    public mutating func scaleRows(by factors: [Float]) {
        let rows = shape.rank > 0 ? shape[0] : 1
        precondition(factors.count == rows, "scaleRows: \(factors.count) factors for \(rows) rows")
        let stride = count / max(rows, 1)
        withUnsafeMutableBufferPointer { x in
            for (i, factor) in factors.enumerated() {
                BLAS.scale(x.baseAddress! + i * stride, count: stride, by: factor)
            }
        }
    }

    public static func + (lhs: Tensor, rhs: Tensor) throws -> Tensor {
        var result = lhs
        try result.add(rhs)
        return result
    }

    public static func - (lhs: Tensor, rhs: Tensor) throws -> Tensor {
        var result = lhs
        try result.add(rhs, scaledBy: -1)
        return result
    }

    public static func * (lhs: Float, rhs: Tensor) -> Tensor {
        var result = rhs
        result.scale(by: lhs)
        return result
    }

    /// The sum of all scalars, accumulated in Double.
    public func sum() -> Double {
        withUnsafeBufferPointer { buffer in
            var total = 0.0
            for value in buffer { total += Double(value) }
            return total
        }
    }

    /// `⟨self, other⟩`, accumulated in Double.
    public func dot(_ other: Tensor) throws -> Double {
        try other.check(shape, "dot")
        return withUnsafeBufferPointer { a in
            other.withUnsafeBufferPointer { b in
                var total = 0.0
                for i in 0..<a.count { total += Double(a[i]) * Double(b[i]) }
                return total
            }
        }
    }

    /// The sum of squares, accumulated in Double.
    public func squaredNorm() -> Double {
        withUnsafeBufferPointer { buffer in
            var total = 0.0
            for value in buffer { total += Double(value) * Double(value) }
            return total
        }
    }

    /// The largest absolute scalar (0 for an empty tensor).
    public func maxAbs() -> Float {
        withUnsafeBufferPointer { buffer in buffer.reduce(0) { Swift.max($0, abs($1)) } }
    }

    /// True when every scalar is finite.
    public var isFinite: Bool {
        withUnsafeBufferPointer { Tensor.allFinite($0) }
    }

    /// True when every scalar of `buffer` is finite: `x − x` is 0 for a finite `x` and NaN otherwise, so a sum of
    /// them (which the compiler vectorises, unlike an early-exit loop) is NaN exactly when some scalar is not finite.
    /// Long buffers (a step's gradients) are split across the workers.
    public static func allFinite(_ buffer: UnsafeBufferPointer<Float>) -> Bool {
        guard let base = buffer.baseAddress else { return true }
        return withUnsafeTemporaryAllocation(of: Float.self, capacity: Parallel.workerCount) { sums in
            sums.initialize(repeating: 0)
            Parallel.forEachSlice(of: buffer.count) { worker, range in
                sums[worker] += differenceSum(base + range.lowerBound, count: range.count)
            }
            return sums.reduce(0, +) == 0
        }
    }

    /// `Σ (x − x)` over `count` scalars: 0, or NaN if any is not finite.
    private static func differenceSum(_ base: UnsafePointer<Float>, count n: Int) -> Float {
        let chunks = n / 16
        var acc = SIMD16<Float>(repeating: 0)
        let raw = UnsafeRawPointer(base)
        for c in 0..<chunks {
            let v = raw.loadUnaligned(fromByteOffset: c * 64, as: SIMD16<Float>.self)
            acc += v - v
        }
        var tail: Float = 0
        for i in (chunks * 16)..<n { tail += base[i] - base[i] }
        return acc.sum() + tail
    }

    /// Sums an [N, C, ...] tensor over every axis but the second: the per-channel totals (bias gradients).
    public func sumPerChannel() throws -> [Float] {
        guard rank >= 2 else {
            throw TensorError.invalidArgument("sumPerChannel: expected rank ≥ 2, got shape \(shape)")
        }
        let batch = shape[0], channels = shape[1], plane = shape.count / Swift.max(1, batch * channels)
        var totals = [Float](repeating: 0, count: channels)
        withUnsafeBufferPointer { x in
            totals.withUnsafeMutableBufferPointer { t in
                for n in 0..<batch {
                    for c in 0..<channels {
                        let base = x.baseAddress! + (n * channels + c) * plane
                        var s: Float = 0
                        for i in 0..<plane { s += base[i] }
                        t[c] += s
                    }
                }
            }
        }
        return totals
    }

    /// Adds `bias[c]` to every element of channel `c` of an [N, C, ...] tensor.
    public mutating func addPerChannel(_ bias: UnsafeBufferPointer<Float>) {
        let batch = shape[0], channels = shape[1], plane = shape.count / Swift.max(1, batch * channels)
        withUnsafeMutableBufferPointer { x in
            for n in 0..<batch {
                for c in 0..<channels {
                    let base = x.baseAddress! + (n * channels + c) * plane
                    let b = bias[c]
                    for i in 0..<plane { base[i] += b }
                }
            }
        }
    }
}
