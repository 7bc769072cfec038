import Tensor

/// The window geometry shared by max and average pooling over NCHW batches.
public struct PoolingWindow: Sendable, Equatable {
    public let kernel: (Int, Int)
    public let stride: (Int, Int)
    public let padding: (Int, Int)

    public init(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) {
        self.kernel = kernel
        self.stride = stride ?? kernel
        self.padding = padding
    }

    public static func == (a: PoolingWindow, b: PoolingWindow) -> Bool {
        a.kernel == b.kernel && a.stride == b.stride && a.padding == b.padding
    }

    public func outputShape(for input: Shape, _ operation: String) throws -> Shape {
        guard input.rank == 4 else {
            throw TensorError.invalidArgument("\(operation): expected input [N, C, H, W], got shape \(input)")
        }
        let paddedH = input[2] + 2 * padding.0, paddedW = input[3] + 2 * padding.1
        guard kernel.0 <= paddedH, kernel.1 <= paddedW else {
            throw TensorError.invalidArgument(
                "\(operation): window \(kernel.0)x\(kernel.1) is larger than the padded input \(paddedH)x\(paddedW) "
                    + "(input \(input))")
        }
        return [input[0], input[1], (paddedH - kernel.0) / stride.0 + 1, (paddedW - kernel.1) / stride.1 + 1]
    }

    /// Calls `body(planeIndex, outputIndex, inputRows, inputColumns)` for every output position: the window's
    /// rows and columns clipped to the image. Planes are split across the workers (`Parallel`) when there is enough
    /// work, so `body` may only touch its own plane (of the input, output and anything indexed like them).
    @inline(__always)
    func forEachWindow(
        input: Shape, output: Shape, _ body: (_ plane: Int, _ outIndex: Int, Range<Int>, Range<Int>) -> Void
    ) {
        let planes = input[0] * input[1], (h, w) = (input[2], input[3]), (oh, ow) = (output[2], output[3])
        Parallel.forEach(planes, minimumCount: planes * h * w >= 1 << 16 ? 2 : .max) { _, slice in
            for plane in slice {
                for oy in 0..<oh {
                    let y0 = oy * stride.0 - padding.0
                    let rows = max(0, y0)..<min(h, y0 + kernel.0)
                    for ox in 0..<ow {
                        let x0 = ox * stride.1 - padding.1
                        body(plane, (plane * oh + oy) * ow + ox, rows, max(0, x0)..<min(w, x0 + kernel.1))
                    }
                }
            }
        }
    }
}
