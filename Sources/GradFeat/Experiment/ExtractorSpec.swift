/// One extractor of an experiment: its registry name and its own options.
///
/// In a config file, `mode` lists them as names or as mappings with options:
/// ```yaml
/// mode: [activation, gradfeat, {name: random-features, options: {width: 512}}]
/// ```
public struct ExtractorSpec: Codable, Sendable, Equatable {
    public var name: String
    public var options: [String: ConfigValue]
    /// Where each option came from (file, line, column), by key; not part of the spec's value.
    public var origins: [String: String] = [:]

    /// The options with where they came from, as the extractor's factory receives them.
    public var pluginOptions: PluginOptions { PluginOptions(options, origins: origins) }

    public static func == (a: ExtractorSpec, b: ExtractorSpec) -> Bool { a.name == b.name && a.options == b.options }

    public init(_ name: String, options: [String: ConfigValue] = [:]) {
        self.name = name
        self.options = options
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case name, options }

    public init(from decoder: any Decoder) throws {
        if let name = try? decoder.singleValueContainer().decode(String.self) {
            self.init(name)
            return
        }
        let keys = try decoder.container(keyedBy: AnyCodingKey.self).allKeys.map(\.stringValue)
        if let unknown = keys.first(where: { CodingKeys(rawValue: $0) == nil }) {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath + [AnyCodingKey(unknown)],
                    debugDescription: "is not a key of an extractor, which has 'name' and 'options'"))
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            try container.decode(String.self, forKey: .name),
            options: try container.decodeIfPresent([String: ConfigValue].self, forKey: .options) ?? [:])
    }

    public func encode(to encoder: any Encoder) throws {
        if options.isEmpty {
            var container = encoder.singleValueContainer()
            try container.encode(name)
        } else {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(options, forKey: .options)
        }
    }
}

/// A coding key of any name (to list a mapping's keys).
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) {
        stringValue = String(intValue)
        self.intValue = intValue
    }
}
