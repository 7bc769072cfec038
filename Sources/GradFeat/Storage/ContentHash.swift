import Tensor

/// A 64-bit FNV-1a hash of tensors' bytes, as hex: names the weights an activation cache was made with.
public func contentHash(_ tensors: [Tensor]) -> String {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for tensor in tensors {
        for dimension in tensor.shape.dimensions { hash = (hash ^ UInt64(dimension)) &* 0x100_0000_01B3 }
        tensor.withUnsafeBufferPointer { buffer in
            for value in buffer { hash = (hash ^ UInt64(value.bitPattern)) &* 0x100_0000_01B3 }
        }
    }
    return String(hash, radix: 16)
}
