/// Wraps a value that is safe to share for the duration of one parallel loop (the loop body only
/// touches disjoint memory) but whose type the compiler cannot prove `Sendable`.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
}
