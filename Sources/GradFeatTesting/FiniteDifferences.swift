import Tensor

/// Central finite differences of a scalar function of Float tensors, for the conformance checks.
enum FiniteDifferences {
    /// `Σ a ⊙ b` in Float64.
    static func dot(_ a: Tensor, _ b: Tensor) -> Double {
        zip(a.scalars, b.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }

    /// Whether an analytic derivative `analytic` matches the central difference `numeric`, with Float32's rounding
    /// allowed for: `|a − n| ≤ relative · max(|a|, |n|) + absolute · scale`.
    static func agree(
        _ analytic: Double, _ numeric: Double, scale: Double, relative: Double = 3e-2,
        absolute: Double = 3e-3
    ) -> Bool {
        abs(analytic - numeric) <= relative * max(abs(analytic), abs(numeric)) + absolute * max(scale, 1e-6)
    }

    /// Up to `count` seeded indices of a tensor of `size` elements (all of them when it is that small).
    static func sampleIndices(size: Int, count: Int, rng: inout SeededRandom) -> [Int] {
        guard size > count else { return Array(0..<size) }
        var chosen = Set<Int>()
        while chosen.count < count { chosen.insert(Int(rng.next() % UInt64(size))) }
        return chosen.sorted()
    }
}
