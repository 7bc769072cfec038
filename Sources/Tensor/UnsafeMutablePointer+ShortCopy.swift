extension UnsafeMutablePointer where Pointee == Float {
    /// `self[i] = source[i]` for `i < count`, inline and without a loop tail: lines of 4 or more floats are copied in
    /// SIMD blocks, the last block ending at the line's end (overlapping the one before). im2col and the layout
    /// permutes copy millions of short lines (4–28 floats in bigan-cifar), where calls to `memmove` cost more than
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
        if count >= 8 {
            var i = 0
            while i &+ 8 < count {
                copy8(i)
                i &+= 8
            }
            copy8(count &- 8)
        } else if count >= 4 {
            copy4(0)
            copy4(count &- 4)
        } else {
            for i in 0..<count { self[i] = source[i] }
        }
    }

    /// `self[i] = source[i · stride]` for `i < count`: `copyShortLine` for stride 1; for stride 2 the even elements of
    /// SIMD loads, which read one float past the line's last (`source[2·count − 1]`), so only when that lies before
    /// `readableEnd`; otherwise, and for other strides, element by element.
    @inline(__always)
    func gatherShortLine(
        from source: UnsafePointer<Float>, count: Int, stride: Int, readableEnd: UnsafePointer<Float>
    ) {
        if stride == 1 { return copyShortLine(from: source, count: count) }
        if stride == 2, count >= 4, source + 2 &* count <= readableEnd {
            @inline(__always) func gather8(_ i: Int) {
                let a = UnsafeRawPointer(source + 2 &* i).loadUnaligned(as: SIMD8<Float>.self)
                let b = UnsafeRawPointer(source + (2 &* i &+ 8)).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(self + i).storeBytes(
                    of: SIMD8(lowHalf: a.evenHalf, highHalf: b.evenHalf), as: SIMD8<Float>.self)
            }
            @inline(__always) func gather4(_ i: Int) {
                let a = UnsafeRawPointer(source + 2 &* i).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(self + i).storeBytes(of: a.evenHalf, as: SIMD4<Float>.self)
            }
            if count >= 8 {
                var i = 0
                while i &+ 8 < count {
                    gather8(i)
                    i &+= 8
                }
                gather8(count &- 8)
            } else {
                gather4(0)
                gather4(count &- 4)
            }
            return
        }
        for i in 0..<count { self[i] = source[i &* stride] }
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

    /// `self[i] = 0` for `i < count`, inline; nothing for a count of 0.
    @inline(__always)
    func zeroShortLine(count: Int) {
        for i in 0..<count { self[i] = 0 }
    }
}
