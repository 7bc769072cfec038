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

    public func apply(_ input: Tensor, tangent: Tensor?, parameterTangent: [Tensor]?, mode: Mode) throws -> LayerOutput
    {
        let outShape = try outputShape(for: input.shape)
        guard let tangent else {
            // No tangent to route: the maxima alone; `vjp` finds the arg-max positions again if it is ever called.
            return LayerOutput(value: maxima(input, outShape), tangent: nil, record: Record(input: input))
        }
        try tangent.check(input.shape, "MaxPool2D tangent")
        let (value, indices) = argmax(input, outShape)
        let outputTangent = Tensor(shape: outShape) { out in
            tangent.withUnsafeBufferPointer { t in for o in 0..<out.count { out[o] = t[Int(indices[o])] } }
        }
        return LayerOutput(value: value, tangent: outputTangent, record: Record(input: input, indices: indices))
    }

    public func vjp(_ record: Record, outputGradient: Tensor, needInputGradient: Bool, mode: Mode) throws -> Gradients {
        let outShape = try outputShape(for: record.input.shape)
        try outputGradient.check(outShape, "MaxPool2D output gradient")
        guard needInputGradient else { return Gradients(input: nil, parameters: []) }
        let indices = record.indices.isEmpty ? argmax(record.input, outShape).indices : record.indices
        var dx = Tensor.zeros(record.input.shape)
        dx.withUnsafeMutableBufferPointer { dx in
            outputGradient.withUnsafeBufferPointer { g in
                for o in 0..<g.count { dx[Int(indices[o])] += g[o] }
            }
        }
        return Gradients(input: dx, parameters: [])
    }

    /// The maxima and the flat input index of each (the first in row-major order among equals, as PyTorch picks).
    func argmax(_ input: Tensor, _ outShape: Shape) -> (value: Tensor, indices: [Int32]) {
        let planeSize = input.shape[2] * input.shape[3], width = input.shape[3]
        var indices = [Int32](repeating: 0, count: outShape.count)
        let value = Tensor(shape: outShape) { out in
            input.withUnsafeBufferPointer { x in
                indices.withUnsafeMutableBufferPointer { arg in
                    window.forEachWindow(input: input.shape, output: outShape) { plane, o, rows, cols in
                        var best = -Float.infinity,
                            bestIndex = plane * planeSize + rows.lowerBound * width + cols.lowerBound
                        for r in rows {
                            for c in cols {
                                // Selects rather than branches: which element wins is data-dependent.
                                let i = plane &* planeSize &+ r &* width &+ c
                                let isBetter = x[i] > best
                                best = isBetter ? x[i] : best
                                bestIndex = isBetter ? i : bestIndex
                            }
                        }
                        out[o] = best
                        arg[o] = Int32(bestIndex)
                    }
                }
            }
        }
        return (value, indices)
    }

    /// The maxima alone, a row of outputs at a time: first the element-wise maximum of the window's input rows
    /// (SIMD along the row), then the maximum over each window's columns of it. Comparing window by window is one
    /// chain of dependent comparisons per output; this was 3–4× slower on ResNet18's stem (7 % of its bottom pass).
    func maxima(_ input: Tensor, _ outShape: Shape) -> Tensor {
        let planes = input.shape[0] * input.shape[1], planeSize = input.shape[2] * input.shape[3]
        let outPlaneSize = outShape[2] * outShape[3]
        return Tensor(shape: outShape) { out in
            input.withUnsafeBufferPointer { x in
                _ = Parallel.forEach(planes, minimumCount: planes * planeSize >= 1 << 16 ? 2 : .max) { _, slice in
                    let width = input.shape[3]
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: width) { rowMaximum in
                        for plane in slice {
                            maxima(
                                ofPlane: x.baseAddress! + plane * planeSize, height: input.shape[2], width: width,
                                into: out.baseAddress! + plane * outPlaneSize, outHeight: outShape[2],
                                outWidth: outShape[3], rowMaximum: rowMaximum.baseAddress!)
                        }
                    }
                }
            }
        }
    }

    private func maxima(
        ofPlane source: UnsafePointer<Float>, height h: Int, width w: Int, into target: UnsafeMutablePointer<Float>,
        outHeight: Int, outWidth: Int, rowMaximum v: UnsafeMutablePointer<Float>
    ) {
        let (kh, kw) = window.kernel, (sy, sx) = window.stride, (py, px) = window.padding
        for oy in 0..<outHeight {
            let y0 = oy * sy - py
            // Starting from −∞ and taking `b > a` picks as `argmax` does (a NaN never wins).
            v.update(repeating: -Float.infinity, count: w)
            for r in max(0, y0)..<min(h, y0 + kh) {
                let line = source + r * w
                var i = 0
                while i + 8 <= w {
                    let a = UnsafeRawPointer(v + i).loadUnaligned(as: SIMD8<Float>.self)
                    let b = UnsafeRawPointer(line + i).loadUnaligned(as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(v + i).storeBytes(
                        of: a.replacing(with: b, where: b .> a), as: SIMD8<Float>.self)
                    i += 8
                }
                while i < w {
                    if line[i] > v[i] { v[i] = line[i] }
                    i += 1
                }
            }
            for ox in 0..<outWidth {
                let x0 = ox * sx - px
                var best = -Float.infinity
                for c in max(0, x0)..<min(w, x0 + kw) { best = v[c] > best ? v[c] : best }
                target[oy * outWidth + ox] = best
            }
        }
    }
}
