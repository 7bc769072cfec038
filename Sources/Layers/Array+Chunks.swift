extension Array {
    /// Consecutive pieces of the given sizes (a flat parameter list split back into one list per layer); the
    /// sizes must add up to `count`.
    public func chunked(into sizes: [Int]) -> [[Element]] {
        var offset = 0
        return sizes.map { size in
            defer { offset += size }
            return Array(self[offset..<(offset + size)])
        }
    }
}
