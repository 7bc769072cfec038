import Tensor

/// 64-bit FNV-1a, the hash behind every content hash GradFeat writes (weights, activation-cache producers).
public struct FNV1a64: Sendable {
    /// The hash so far (FNV's 64-bit offset basis before anything is folded in).
    public private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    /// An empty hash.
    public init() {}

    /// Folds one word in.
    public mutating func combine(_ word: UInt64) { value = (value ^ word) &* 0x100_0000_01B3 }

    /// Folds bytes in, one at a time.
    public mutating func combine(bytes: UnsafeRawBufferPointer) {
        for byte in bytes { combine(UInt64(byte)) }
    }

    /// The hash as lower-case hexadecimal (what the files record).
    public var hex: String { String(value, radix: 16) }
}

/// A 64-bit FNV-1a hash of tensors' shapes and values, as hex: names the weights an activation cache was made with.
public func contentHash(_ tensors: [Tensor]) -> String {
    var hash = FNV1a64()
    for tensor in tensors {
        for dimension in tensor.shape.dimensions { hash.combine(UInt64(dimension)) }
        tensor.withUnsafeBufferPointer { buffer in
            for value in buffer { hash.combine(UInt64(value.bitPattern)) }
        }
    }
    return hash.hex
}
