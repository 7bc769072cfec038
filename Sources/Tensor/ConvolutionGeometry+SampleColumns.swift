extension ConvolutionGeometry {
    /// Each sample's im2col columns, [N, C·kh·kw, Ho·Wo]: sample n's block is the matrix `Z_n` whose column p is the
    /// input patch under output position p, so that the sample's weight gradient is `G_n Z_nᵀ` (G_n its output
    /// gradient [O, Ho·Wo]). The samples run on the workers.
    public func sampleColumns(_ x: UnsafePointer<Float>, into columns: UnsafeMutablePointer<Float>) {
        let block = patchSize * positions
        if path == .wholeInput {
            // The kernel covers the input: the patch is the sample's planes as they lie, in (c, ky, kx) order.
            columns.update(from: x, count: batch * block)
            return
        }
        _ = Parallel.forEach(batch) { _, samples in
            for sample in samples {
                im2col(x, samples: sample..<(sample + 1), into: columns + sample * block)
            }
        }
    }
}
