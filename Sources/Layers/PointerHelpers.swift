import Tensor

/// Runs `body` with a pointer to an optional tensor's storage, or nil (an absent bias).
func withOptionalPointer<R>(_ tensor: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let tensor else { return body(nil) }
    return tensor.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// Runs `body` with a mutable pointer into an optional tensor's storage, or nil (a gradient not asked for).
func withOptionalMutablePointer<R>(_ tensor: inout Tensor?, _ body: (UnsafeMutablePointer<Float>?) -> R) -> R {
    guard var value = tensor else { return body(nil) }
    tensor = nil // keep the storage uniquely referenced so writing does not copy it
    let result = value.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    tensor = value
    return result
}
