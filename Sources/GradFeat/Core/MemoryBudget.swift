import Foundation

/// How much memory a command may use for its data, caches and results — not the model and its step's working set —
/// in binary units: `512MB` is 512 MiB, `2GB` 2 GiB (`KB`, `MB`, `GB`, `TB`, also written `KiB` … or `K` …).
///
/// The default is half the machine's physical memory (`defaultFraction`).
public struct MemoryBudget: Sendable, Equatable, CustomStringConvertible {
    public let bytes: Int

    /// The share of physical memory the default budget takes.
    public static let defaultFraction = 0.5

    public init(bytes: Int) { self.bytes = max(0, bytes) }

    /// Half of this machine's physical memory.
    public static var `default`: MemoryBudget {
        MemoryBudget(bytes: Int(Double(ProcessInfo.processInfo.physicalMemory) * defaultFraction))
    }

    /// Parses `512MB`, `1.5GB`, `64 KiB`, `8G`. A bare number is refused: the unit says which is meant.
    public init(parsing text: String, option: String = "--memory-budget") throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { $0.isNumber || $0 == "." }
        let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).uppercased()
        let powers: [String: Double] = [
            "B": 0, "K": 1, "KB": 1, "KIB": 1, "M": 2, "MB": 2, "MIB": 2, "G": 3, "GB": 3,
            "GIB": 3, "T": 4, "TB": 4, "TIB": 4,
        ]
        guard let value = Double(digits), value.isFinite, let power = powers[unit] else {
            throw GradFeatError.invalidConfiguration(
                "\(option) '\(text)' is not a size: write a number and a binary unit, e.g. 512MB or 2GB "
                    + "(MB = MiB, GB = GiB)")
        }
        let bytes = value * pow(1024, power)
        guard bytes > 0, bytes < Double(Int.max) else {
            throw GradFeatError.invalidConfiguration("\(option) '\(text)' must be more than 0 bytes and a finite size")
        }
        self.init(bytes: Int(bytes))
    }

    /// Whether `bytes` fit.
    public func admits(_ bytes: Int) -> Bool { bytes <= self.bytes }

    /// `1.5 GiB`, `512.0 MiB`.
    public var description: String { Self.format(bytes) }

    /// A byte count in the budget's units.
    public static func format(_ bytes: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes), index = 0
        while value >= 1024, index < units.count - 1 {
            value /= 1024
            index += 1
        }
        return index == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[index])
    }
}
