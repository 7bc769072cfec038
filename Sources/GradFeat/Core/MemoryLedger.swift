/// What a command holds in memory under its `MemoryBudget`: each data set or cache is placed in memory while the
/// budget has room for it, and streamed from disk otherwise — in the order the command asks, so the first (the
/// training set) is the first kept.
///
/// A streamed part still needs its working set (the batch being used and the one read ahead); a budget without
/// room even for that is refused with the sizes and the smallest budget that would do.
public struct MemoryLedger: Sendable {
    public let budget: MemoryBudget
    /// The bytes placed so far.
    public private(set) var used: Int
    /// The option (or config key) the budget came from, for messages.
    public let option: String

    /// A ledger that starts with `reserved` bytes in use (data the command holds whatever the budget).
    public init(budget: MemoryBudget, reserved: Int = 0, option: String = "--memory-budget") {
        self.budget = budget
        self.used = reserved
        self.option = option
    }

    /// Whether `what` (`bytes` in all) is held in memory: true when it fits beside what is placed, else false after
    /// reserving `streamingBytes` for streaming it; throws, naming both sizes, when not even that fits.
    public mutating func holdsInMemory(_ what: String, bytes: Int, streamingBytes: Int) throws -> Bool {
        let inMemory = Self.sum(used, bytes)
        if budget.admits(inMemory) {
            used = inMemory
            return true
        }
        let streamed = Self.sum(used, streamingBytes)
        guard budget.admits(streamed) else {
            let smallest =
                streamed == .max
                ? "more than this machine can address"
                : "\(option) \(streamed / (1 << 20) + (streamed % (1 << 20) == 0 ? 0 : 1))MB or more"
            throw Refusal(
                message:
                    "\(option) \(budget) is too small: streaming \(what) needs \(MemoryBudget.format(streamingBytes)) for "
                    + "its batches beside the \(MemoryBudget.format(used)) already placed; pass \(smallest), "
                    + "or a smaller --batchsize")
        }
        used = streamed
        return false
    }

    /// What streaming a cache of `rows` rows of `rowBytes` holds: the batch in use and the one read ahead, of
    /// `batchSize` or the evaluator's 256 rows, whichever is larger — never more than the whole cache. Saturates
    /// at `Int.max` (refused by any budget) instead of overflowing for a huge batch.
    public static func streamingBytes(rows: Int, rowBytes: Int, batchSize: Int) -> Int {
        let batch = max(batchSize, Evaluator().batchSize)
        return product(min(rows, batch > Int.max / 2 ? Int.max : 2 * batch), rowBytes)
    }

    /// `a + b` for byte counts, saturating at `Int.max`.
    public static func sum(_ a: Int, _ b: Int) -> Int {
        let (value, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : value
    }

    /// `a · b` for byte counts, saturating at `Int.max`.
    public static func product(_ a: Int, _ b: Int) -> Int {
        let (value, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? .max : value
    }

    /// A budget too small for what a command must hold.
    public struct Refusal: Error, CustomStringConvertible, Sendable, Equatable {
        public var message: String
        public var description: String { message }
    }
}
