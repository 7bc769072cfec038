extension UnsafeMutablePointer where Pointee == Float {
    /// `self[i] = source[i]` for `i < count`, inline and without a loop tail: lines of 4 or more floats are copied in
    /// SIMD blocks, the last block ending at the line's end (overlapping the one before). The layout
    /// permutes copy millions of short lines (16–784 floats in bigan-cifar), where calls to `memmove` cost more than
    /// the copies.
    @inline(__always)
    func copyShortLine(from source: UnsafePointer<Float>, count: Int) {
        @inline(__always) func copy8(_ i: Int) {
            UnsafeMutableRawPointer(self + i).storeBytes(
                of: UnsafeRawPointer(source + i).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
        }
        @inline(__always) func copy4(_ i: Int) {
            UnsafeMutableRawPointer(self + i).storeBytes(
                of: UnsafeRawPointer(source + i).loadUnaligned(as: SIMD4<Float>.self), as: SIMD4<Float>.self)
        }
        if count >= 4 {
            Self.coverLine(count: count, block8: copy8, block4: copy4)
        } else {
            for i in 0..<count { self[i] = source[i] }
        }
    }

    /// Calls `block8` at 0, 8, 16, … and last at `count − 8` (overlapping the one before), or, for a line of 4–7,
    /// `block4` at 0 and `count − 4`: every index below `count` is covered and none past it.
    @inline(__always)
    private static func coverLine(count: Int, block8: (Int) -> Void, block4: (Int) -> Void) {
        if count >= 8 {
            var i = 0
            while i &+ 8 < count {
                block8(i)
                i &+= 8
            }
            block8(count &- 8)
        } else {
            block4(0)
            block4(count &- 4)
        }
    }

    /// `self[i] += source[i]` for `i < count`, inline (see `copyShortLine`).
    @inline(__always)
    func addShortLine(from source: UnsafePointer<Float>, count: Int) {
        var i = 0
        while i &+ 8 <= count {
            let target = UnsafeMutableRawPointer(self + i)
            target.storeBytes(
                of: target.loadUnaligned(as: SIMD8<Float>.self)
                    + UnsafeRawPointer(source + i).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
            i &+= 8
        }
        while i < count {
            self[i] += source[i]
            i &+= 1
        }
    }
}
