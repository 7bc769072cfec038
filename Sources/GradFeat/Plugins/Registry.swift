import Tensor

/// What every registry entry declares: its name, a one-line summary, and where it was registered (so that a name
/// registered twice is refused with both places).
public protocol RegistryEntry: Sendable {
    var name: String { get }
    var summary: String { get }
    /// `file:line` of the `register` call (filled in by the registries' `register` methods).
    var registeredAt: String { get set }
}

/// Named plugins of one kind (extractors, heads, models, data sets): the one registry shape GradFeat uses for all
/// of them. Built-ins and a user's plugins are registered the same way, and the CLI, config files and
/// `gradfeat eval --run` find both by name.
public final class Registry<Entry: RegistryEntry>: Sendable {
    /// The kind of plugin, for messages ("extractor", "model", …).
    public let kind: String
    private let entries = Locked<[String: Entry]>([:])

    public init(kind: String) { self.kind = kind }

    /// Adds `entry`. A name may be registered once: a second registration is an error naming both.
    public func register(_ entry: Entry, file: String = #fileID, line: Int = #line) throws {
        var entry = entry
        if entry.registeredAt.isEmpty { entry.registeredAt = "\(file):\(line)" }
        try validateName(entry.name)
        try entries.withLock { entries in
            if let existing = entries[entry.name] {
                throw GradFeatError.duplicateRegistration(
                    kind: kind, name: entry.name, first: existing.registeredAt, second: entry.registeredAt)
            }
            entries[entry.name] = entry
        }
    }

    private func validateName(_ name: String) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-_.")
        guard !name.isEmpty, name.allSatisfy({ allowed.contains($0) }), !name.hasSuffix(".h5") else {
            throw GradFeatError.invalidConfiguration(
                "\(kind) name '\(name)' is not a valid name: use lower-case letters, digits, '-', '_' or '.', "
                    + "and not a .h5 ending (that names a file)")
        }
    }

    /// The names in alphabetical order.
    public var names: [String] { entries.withLock { $0.keys.sorted() } }

    /// Every entry, by name.
    public var all: [Entry] { entries.withLock { dict in dict.keys.sorted().map { dict[$0]! } } }

    /// Whether `name` is registered.
    public func contains(_ name: String) -> Bool { entries.withLock { $0[name] != nil } }

    /// The entry named `name`, or an error listing the registered names.
    public func entry(_ name: String) throws -> Entry {
        guard let entry = entries.withLock({ $0[name] }) else {
            throw GradFeatError.unknownName(kind: kind, name: name, known: names)
        }
        return entry
    }
}
