/// A small, fast, seeded random-number generator (SplitMix64; Steele, Lea, Flood, 2014,
/// "Fast Splittable Pseudorandom Number Generators").
///
/// ```
/// state += 0x9E3779B97F4A7C15
/// z = state; z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9; z = (z ^ (z >> 27)) * 0x94D049BB133111EB
/// return z ^ (z >> 31)
/// ```
///
/// Everything random in `Datasets` (shuffles, crops, flips) draws from it through its own methods,
/// so a seed gives the same sequence on every platform and Swift version (the standard library's
/// `shuffle(using:)` algorithm is not guaranteed stable).
public struct DatasetRandom: RandomNumberGenerator, Sendable, Equatable {
    /// The internal state; equal states give equal futures.
    public private(set) var state: UInt64

    /// A generator starting from `seed`.
    public init(seed: UInt64) {
        state = seed
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform integer in `0..<bound`, without modulo bias (Lemire's multiply-and-reject).
    public mutating func next(below bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive")
        let b = UInt64(bound)
        var product = next().multipliedFullWidth(by: b)
        if product.low < b {
            let threshold = (0 &- b) % b
            while product.low < threshold { product = next().multipliedFullWidth(by: b) }
        }
        return Int(product.high)
    }

    /// A uniform `Double` in `[0, 1)` with 53 random bits.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Shuffles `array` in place (Fisher-Yates, from the end).
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        array.withUnsafeMutableBufferPointer { buffer in
            for i in stride(from: buffer.count - 1, to: 0, by: -1) {
                buffer.swapAt(i, next(below: i + 1))
            }
        }
    }

    /// A random permutation of `0..<count`.
    public mutating func permutation(_ count: Int) -> [Int] {
        var indices = Array(0..<count)
        shuffle(&indices)
        return indices
    }

    /// A generator derived from this seed and a stream number (for example the epoch), independent
    /// of how many numbers this one has drawn.
    public static func derived(seed: UInt64, stream: UInt64) -> DatasetRandom {
        var mixer = DatasetRandom(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        return DatasetRandom(seed: mixer.next())
    }
}
