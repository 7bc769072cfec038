/// The fuzz input read as a sequence of choices: each call consumes a few bytes and returns a value in the range
/// asked for. Past the end every choice is the smallest one (0, false, the first option, empty data), so a short
/// input is still a valid, small test case.
public struct FuzzInput {
    private let bytes: [UInt8]
    private var position = 0

    public init(_ start: UnsafePointer<UInt8>, _ count: Int) {
        bytes = Array(UnsafeBufferPointer(start: start, count: count))
    }

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Bytes not consumed yet.
    public var remaining: Int { bytes.count - position }

    public mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    public mutating func bool() -> Bool { byte() & 1 == 1 }

    /// True for one value in `n` (never for a zero byte, so that an input of zeros takes the usual path).
    public mutating func rarely(_ n: Int) -> Bool { int(in: 0...n - 1) == n - 1 }

    /// The next `count` bytes (zeros past the end) as choices of their own, so that what follows them starts at a
    /// fixed offset: a seed is `count` choice bytes and then a file.
    public mutating func header(_ count: Int) -> FuzzInput {
        FuzzInput((0..<count).map { _ in byte() })
    }

    /// A value in `range`, from as many bytes as the range needs (1 for up to 256 values).
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        let span = UInt64(bitPattern: Int64(range.upperBound &- range.lowerBound))
        var value: UInt64 = 0
        var covered: UInt64 = 0
        while covered < span {
            value = value << 8 | UInt64(byte())
            covered = covered << 8 | 0xff
        }
        let offset = span == .max ? value : value % (span + 1)
        return range.lowerBound &+ Int(truncatingIfNeeded: offset)
    }

    /// One of `options` (which must not be empty).
    public mutating func pick<T>(_ options: [T]) -> T { options[int(in: 0...options.count - 1)] }

    /// Up to `maxCount` bytes, their count chosen first.
    public mutating func data(maxCount: Int = 4096) -> [UInt8] {
        let count = min(int(in: 0...min(maxCount, 65_535)), remaining)
        defer { position += count }
        return Array(bytes[position..<position + count])
    }

    /// Up to `maxCount` bytes as text (invalid UTF-8 replaced).
    public mutating func text(maxCount: Int = 64) -> String {
        String(decoding: data(maxCount: maxCount), as: UTF8.self)
    }

    /// Everything not consumed yet.
    public mutating func rest() -> [UInt8] {
        defer { position = bytes.count }
        return Array(bytes[position...])
    }

    /// An integer that tends to break size arithmetic: 0, ±1, powers of two near 2^8 … 2^63, the extremes,
    /// or a small value.
    public mutating func edgeInt() -> Int {
        switch int(in: 0...3) {
        case 0: return int(in: 0...8)
        case 1: return -int(in: 1...3)
        default:
            return pick([
                255, 256, 65_535, 65_536, Int(Int32.max), 1 << 31, Int(UInt32.max), 1 << 32, 1 << 40, 1 << 48,
                1 << 62, Int.max, Int.min, Int.max - 511,
            ])
        }
    }

    /// A floating-point value that tends to break arithmetic: NaN, ±infinity, huge, tiny, negative, or small.
    public mutating func edgeDouble() -> Double {
        pick([
            .nan, .infinity, -.infinity, 1e300, -1e300, .leastNonzeroMagnitude, -0.0, 0, 1, -1, 0.5, 255.5, 3e38, 1e39,
        ])
    }
}
