/// A seeded, reproducible random number generator (xoshiro256**, seeded through SplitMix64).
///
/// Its whole state is four words (`state`), so checkpoints can store and restore it exactly.
public struct SeededRandom: RandomNumberGenerator, Sendable, Equatable {
    public var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var s = seed
        func splitMix() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// Restores a generator from the four words of `state` (as saved in a checkpoint).
    public init(state words: [UInt64]) throws {
        guard words.count == 4 else {
            throw TensorError.invalidArgument("random state must have 4 words, got \(words.count)")
        }
        state = (words[0], words[1], words[2], words[3])
    }

    public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

    public static func == (a: SeededRandom, b: SeededRandom) -> Bool { a.stateWords == b.stateWords }

    public mutating func next() -> UInt64 {
        let result = rotate(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotate(state.3, 45)
        return result
    }

    private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform Float in [0, 1) from the top 24 bits.
    public mutating func nextUnit() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// A standard normal Float (Box–Muller).
    public mutating func nextNormal() -> Float {
        let u1 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        return Float((-2 * log(max(u1, 1e-300))).squareRoot() * cos(2 * Double.pi * u2))
    }

    /// A child generator for an independent stream (e.g. one per layer), derived deterministically.
    public mutating func split() -> SeededRandom { SeededRandom(seed: next()) }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension Tensor {
    /// Scalars drawn uniformly from `[low, high)`.
    public static func uniform(_ shape: Shape, low: Float, high: Float, using rng: inout SeededRandom) -> Tensor {
        Tensor(shape: shape) { out in
            for i in 0..<out.count { out[i] = low + (high - low) * rng.nextUnit() }
        }
    }

    /// Scalars drawn from `N(mean, std²)`.
    public static func normal(_ shape: Shape, mean: Float = 0, std: Float = 1, using rng: inout SeededRandom) -> Tensor
    {
        Tensor(shape: shape) { out in
            for i in 0..<out.count { out[i] = mean + std * rng.nextNormal() }
        }
    }

    /// PyTorch's default initialisation of `Conv2d`/`Linear` weights and biases (Kaiming-uniform with a = √5):
    /// ```
    /// U(−1/√fanIn, 1/√fanIn)
    /// ```
    public static func kaimingUniform(_ shape: Shape, fanIn: Int, using rng: inout SeededRandom) -> Tensor {
        let bound = 1 / Float(max(fanIn, 1)).squareRoot()
        return uniform(shape, low: -bound, high: bound, using: &rng)
    }
}
