import Tensor

/// The mean over each channel's plane: [N, C, H, W] → [N, C].
public struct GlobalAvgPool: LinearOperator {
    public init() {}

    public func outputShape(for input: Shape) throws -> Shape {
        guard input.rank == 4 else {
            throw TensorError.invalidArgument("GlobalAvgPool: expected input [N, C, H, W], got shape \(input)")
        }
        return [input[0], input[1]]
    }

    public func applyLinear(_ x: Tensor) throws -> Tensor {
        let outShape = try outputShape(for: x.shape)
        let plane = x.shape[2] * x.shape[3], scale = 1 / Float(plane)
        return Tensor(shape: outShape) { out in
            x.withUnsafeBufferPointer { x in
                for p in 0..<out.count {
                    var total: Float = 0
                    let base = p * plane
                    for i in 0..<plane { total += x[base + i] }
                    out[p] = total * scale
                }
            }
        }
    }

    public func applyAdjoint(_ g: Tensor, inputShape: Shape) throws -> Tensor {
        let plane = inputShape[2] * inputShape[3], scale = 1 / Float(plane)
        return Tensor(shape: inputShape) { dx in
            g.withUnsafeBufferPointer { g in
                for p in 0..<g.count {
                    (dx.baseAddress! + p * plane).update(repeating: g[p] * scale, count: plane)
                }
            }
        }
    }
}
