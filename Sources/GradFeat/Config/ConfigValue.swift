import Foundation

/// A value of a config file or of a plugin's options: what YAML and JSON have in common. Config files are read into
/// these (with where each value came from, `ConfigLayer`), laid over each other, then decoded into the typed
/// `ExperimentSpec` and into each plugin's own `Decodable` options.
public enum ConfigValue: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([ConfigValue])
    case object([String: ConfigValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([ConfigValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: ConfigValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case let .bool(value): try container.encode(value)
        case let .int(value): try container.encode(value)
        case let .double(value): try container.encode(value)
        case let .string(value): try container.encode(value)
        case let .array(value): try container.encode(value)
        case let .object(value): try container.encode(value)
        }
    }

    /// The value as `T`, through its `Decodable` conformance (JSON's rules: a Bool is only `true` or `false`).
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: try JSONEncoder().encode(self))
    }

    /// `value` as a config value, through its `Encodable` conformance.
    public init(encoding value: some Encodable) throws {
        self = try JSONDecoder().decode(ConfigValue.self, from: try JSONEncoder().encode(value))
    }

    /// A command-line value: a number, `true`/`false`, `null`, a JSON list or mapping, else the text as a string.
    public init(commandLine text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let data = trimmed.data(using: .utf8), let value = try? JSONDecoder().decode(ConfigValue.self, from: data) {
            self = value
        } else {
            self = .string(text)
        }
    }

    public var description: String {
        switch self {
        case .null: return "null"
        case let .bool(value): return String(value)
        case let .int(value): return String(value)
        case let .double(value): return String(value)
        case let .string(value): return "'\(value)'"
        case let .array(values): return "[" + values.map(\.description).joined(separator: ", ") + "]"
        case let .object(values):
            return "{" + values.keys.sorted().map { "\($0): \(values[$0]!.description)" }.joined(separator: ", ") + "}"
        }
    }

    /// The entries of a mapping, or nil.
    public var objectValue: [String: ConfigValue]? {
        if case let .object(values) = self { return values }
        return nil
    }
}
