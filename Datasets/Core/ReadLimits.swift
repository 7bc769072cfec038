import Foundation

/// Bounds on what the readers accept from a file, so that a small damaged or hostile file cannot make GradFeat
/// allocate or compute without bound.
///
/// Every size read from a file is checked against arithmetic overflow (`[Int].checkedProduct`) and against the
/// bytes the file can really deliver before anything is allocated. Beyond that, two limits apply:
///
/// ```
/// pixels of one image           ≤ maxImagePixels                          (JPEG, PNG headers)
/// bytes out of a decompressor   ≤ expansionAllowance + maxExpansion × bytes in   (gzip, xz, deflate chunks)
/// ```
///
/// The defaults (64 Mi pixels, 64 MiB + 200×) are far above any data set GradFeat reads — CIFAR, MNIST, SVHN, VOC and
/// COCO images and archives expand 1–10× — and far below what a decompression bomb produces. Raise them for a
/// genuine file with the environment variables `GRADFEAT_MAX_IMAGE_PIXELS` and `GRADFEAT_MAX_EXPANSION`, or set
/// ``current`` in code.
public struct ReadLimits: Sendable, Equatable {
    /// The most pixels (width × height) a decoded image may have.
    public var maxImagePixels: Int
    /// The most bytes a decompressor may produce per compressed byte, beyond ``expansionAllowance``.
    public var maxExpansion: Int
    /// Bytes a decompressor may always produce, whatever the input's size.
    public var expansionAllowance: Int

    public init(maxImagePixels: Int = 64 << 20, maxExpansion: Int = 200, expansionAllowance: Int = 64 << 20) {
        self.maxImagePixels = maxImagePixels
        self.maxExpansion = maxExpansion
        self.expansionAllowance = expansionAllowance
    }

    /// The defaults, with `GRADFEAT_MAX_IMAGE_PIXELS` and `GRADFEAT_MAX_EXPANSION` applied when set to positive
    /// integers.
    public static var fromEnvironment: ReadLimits {
        var limits = ReadLimits()
        let environment = ProcessInfo.processInfo.environment
        if let text = environment["GRADFEAT_MAX_IMAGE_PIXELS"], let value = Int(text), value > 0 {
            limits.maxImagePixels = value
        }
        if let text = environment["GRADFEAT_MAX_EXPANSION"], let value = Int(text), value > 0 {
            limits.maxExpansion = value
        }
        return limits
    }

    /// The limits every reader in this process applies.
    public static var current: ReadLimits {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }

    private static let storage = LockedValue(fromEnvironment)

    /// The most bytes a decompressor may produce from `compressedBytes` input bytes (saturating, never overflows).
    public func maxOutput(forInput compressedBytes: Int) -> Int {
        let (scaled, overflow) = max(0, compressedBytes).multipliedReportingOverflow(by: maxExpansion)
        let (total, overflow2) = scaled.addingReportingOverflow(expansionAllowance)
        return overflow || overflow2 ? Int.max : total
    }

    /// Why an image of `width` × `height` pixels is refused, or `nil` when it is within ``maxImagePixels``.
    public func imageRefusal(width: Int, height: Int) -> String? {
        guard width > 0, height > 0 else { return "the header gives a size of \(width)x\(height) pixels" }
        if let pixels = [width, height].checkedProduct, pixels <= maxImagePixels { return nil }
        return "the header gives \(width)x\(height) pixels, more than the limit of \(maxImagePixels) "
            + "(the environment variable GRADFEAT_MAX_IMAGE_PIXELS raises it for a genuine image)"
    }
}

/// A value behind a lock, for process-wide settings.
final class LockedValue<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<R>(_ body: (inout Value) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}

extension Array where Element == Int {
    /// The product of the elements, or `nil` when one is negative or the product overflows `Int`: sizes read
    /// from files go through this before they are used.
    public var checkedProduct: Int? {
        var product = 1
        for factor in self {
            guard factor >= 0 else { return nil }
            let (next, overflow) = product.multipliedReportingOverflow(by: factor)
            if overflow { return nil }
            product = next
        }
        return product
    }
}
