/// An image size in pixels, height first (as in `[C, H, W]`).
public struct ImageSize: Sendable, Hashable, CustomStringConvertible {
    /// Rows.
    public var height: Int
    /// Columns.
    public var width: Int

    /// A size of `height` x `width` pixels.
    public init(height: Int, width: Int) {
        precondition(height > 0 && width > 0, "image size must be positive")
        self.height = height
        self.width = width
    }

    /// A square size.
    public init(_ side: Int) {
        self.init(height: side, width: side)
    }

    public var description: String { "\(height)x\(width)" }
}
