import Tensor

/// Max pooling; the tangent and the gradient follow the arg-max positions of the primal input.
public struct MaxPool2D: Layer {
    public let window: PoolingWindow

    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        window = PoolingWindow(kernel: (kernel, kernel), stride: stride.map { ($0, $0) }, padding: (padding, padding))
    }

    public var parameters: [Tensor] {
        get { [] }
        set {}
    }
    public var parameterNames: [String] { [] }

    public func outputShape(for input: Shape) throws -> Shape { try window.outputShape(for: input, "MaxPool2D") }

    public func apply(_ input: Tensor, tangent: Tensor?, parameterTangent: [Tensor]?, mode: Mode) throws -> LayerOutput {
        let outShape = try outputShape(for: input.shape)
        if let tangent { try tangent.check(input.shape, "MaxPool2D tangent") }
        let planeSize = input.shape[2] * input.shape[3], width = input.shape[3]
        var indices = [Int32](repeating: 0, count: outShape.count)
        let value = Tensor(shape: outShape) { out in
            input.withUnsafeBufferPointer { x in
                indices.withUnsafeMutableBufferPointer { arg in
                    window.forEachWindow(input: input.shape, output: outShape) { plane, o, rows, cols in
                        var best = -Float.infinity, bestIndex = plane * planeSize + rows.lowerBound * width + cols.lowerBound
                        for r in rows {
                            for c in cols {
                                let i = plane * planeSize + r * width + c
                                if x[i] > best { best = x[i]; bestIndex = i }
                            }
                        }
                        out[o] = best
                        arg[o] = Int32(bestIndex)
                    }
                }
            }
        }
        let outputTangent = tangent.map { t in
            Tensor(shape: outShape) { out in
                t.withUnsafeBufferPointer { t in for o in 0..<out.count { out[o] = t[Int(indices[o])] } }
            }
        }
        return LayerOutput(value: value, tangent: outputTangent, record: Record(input: input, indices: indices))
    }

    public func vjp(_ record: Record, outputGradient: Tensor, needInputGradient: Bool, mode: Mode) throws -> Gradients {
        try outputGradient.check(try outputShape(for: record.input.shape), "MaxPool2D output gradient")
        guard needInputGradient else { return Gradients(input: nil, parameters: []) }
        var dx = Tensor.zeros(record.input.shape)
        dx.withUnsafeMutableBufferPointer { dx in
            outputGradient.withUnsafeBufferPointer { g in
                for o in 0..<g.count { dx[Int(record.indices[o])] += g[o] }
            }
        }
        return Gradients(input: dx, parameters: [])
    }
}
