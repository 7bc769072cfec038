import Tensor

/// An extractor's trainable tensors with their names, in one ordered collection, so that names and values cannot
/// drift apart (checkpoints store them by name, `Trainer` checks a resumed state against them).
public struct NamedParameters: Sendable, Equatable {
    /// The names, in order (`fc.weight`, `w2.conv5.weight`, …).
    public let names: [String]
    /// The tensors, in the order of `names`; empty only while an in-place update has taken them out.
    public var tensors: [Tensor] {
        didSet {
            precondition(
                tensors.isEmpty || tensors.count == names.count,
                "NamedParameters: \(tensors.count) tensors set for \(names.count) names")
        }
    }

    /// The parameters `pairs`, in order.
    public init(_ pairs: [(name: String, value: Tensor)]) {
        names = pairs.map(\.name)
        tensors = pairs.map(\.value)
    }

    /// `names[i]` for `tensors[i]`; the two must have one element each per parameter.
    public init(names: [String], tensors: [Tensor]) {
        precondition(names.count == tensors.count, "NamedParameters: \(names.count) names for \(tensors.count) tensors")
        self.names = names
        self.tensors = tensors
    }

    /// No parameters.
    public init() { self.init(names: [], tensors: []) }

    public var count: Int { names.count }

    /// The tensor named `name`, if any.
    public subscript(name: String) -> Tensor? { names.firstIndex(of: name).map { tensors[$0] } }

    /// The two collections one after the other (the full model's activation and gradient parts).
    public static func + (a: NamedParameters, b: NamedParameters) -> NamedParameters {
        NamedParameters(names: a.names + b.names, tensors: a.tensors + b.tensors)
    }

    /// The tensors from `start` on, or before `end`, with their names.
    public func prefix(_ count: Int) -> NamedParameters {
        NamedParameters(names: Array(names.prefix(count)), tensors: Array(tensors.prefix(count)))
    }
    public func dropFirst(_ count: Int) -> NamedParameters {
        NamedParameters(names: Array(names.dropFirst(count)), tensors: Array(tensors.dropFirst(count)))
    }
}
