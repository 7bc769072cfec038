import Tensor

/// Average pooling (PyTorch's `count_include_pad=True`: padded positions count in the divisor).
public struct AvgPool2D: LinearOperator {
    public let window: PoolingWindow

    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        window = PoolingWindow(kernel: (kernel, kernel), stride: stride.map { ($0, $0) }, padding: (padding, padding))
    }

    public func outputShape(for input: Shape) throws -> Shape { try window.outputShape(for: input, "AvgPool2D") }

    public func applyLinear(_ x: Tensor) throws -> Tensor {
        let outShape = try outputShape(for: x.shape)
        let inShape = x.shape
        let (planeSize, width) = (inShape[2] * inShape[3], inShape[3])
        let scale = 1 / Float(window.kernel.0 * window.kernel.1)
        return Tensor(shape: outShape) { out in
            x.withUnsafeBufferPointer { x in
                window.forEachWindow(input: inShape, output: outShape) { plane, o, rows, cols in
                    var total: Float = 0
                    for r in rows {
                        let line = plane * planeSize + r * width
                        for c in cols { total += x[line + c] }
                    }
                    out[o] = total * scale
                }
            }
        }
    }

    public func applyAdjoint(_ g: Tensor, inputShape: Shape) throws -> Tensor {
        let (planeSize, width) = (inputShape[2] * inputShape[3], inputShape[3])
        let scale = 1 / Float(window.kernel.0 * window.kernel.1)
        let outShape = g.shape
        var dx = Tensor.zeros(inputShape)
        dx.withUnsafeMutableBufferPointer { dx in
            g.withUnsafeBufferPointer { g in
                window.forEachWindow(input: inputShape, output: outShape) { plane, o, rows, cols in
                    let share = g[o] * scale
                    for r in rows {
                        let line = plane * planeSize + r * width
                        for c in cols { dx[line + c] += share }
                    }
                }
            }
        }
        return dx
    }
}
