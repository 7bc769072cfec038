/// A plugin's own options, from the config file (`mode: [{name: NAME, options: {…}}]`) and the command line
/// (`--extractor-option NAME.KEY=VALUE`), decoded by the plugin into its own `Decodable` type:
///
/// ```swift
/// struct Options: Decodable { var width = 512 }
/// let options = try options.decode(Options.self, for: "extractor 'random-features'")
/// ```
public struct PluginOptions: Sendable, Equatable {
    /// The values by key.
    public var values: [String: ConfigValue]
    /// Where each came from ("config file run.yaml, line 4, column 12", "option --extractor-option"), by key.
    public var origins: [String: String]

    public init(_ values: [String: ConfigValue] = [:], origins: [String: String] = [:]) {
        self.values = values
        self.origins = origins
    }

    public var isEmpty: Bool { values.isEmpty }

    /// The options as `T`. Keys `T` does not know and values of the wrong type are refused with where they came
    /// from; `known` lists the keys `T` reads (for the message; by default those of `T`'s encoding, when it has
    /// one, else none are checked).
    public func decode<T: Decodable>(_ type: T.Type, for plugin: String, known: [String]? = nil) throws -> T {
        if let known {
            for key in values.keys.sorted() where !known.contains(key) {
                throw ConfigError(
                    location: origins[key] ?? plugin, problem: "\(plugin) has no option '\(key)'",
                    fix: "its options are \(known.sorted().joined(separator: ", "))")
            }
        }
        do {
            return try ConfigValue.object(values).decode(T.self)
        } catch let error as DecodingError {
            let (path, problem) = ExperimentSpec.describe(error)
            throw ConfigError(
                location: path.first.flatMap { origins[$0] } ?? plugin,
                problem: "\(plugin), option '\(path.joined(separator: "."))': \(problem)",
                fix: "correct the value")
        }
    }

    /// Refuses any option: for plugins that take none.
    public func refuseAny(for plugin: String) throws {
        if let key = values.keys.sorted().first {
            throw ConfigError(
                location: origins[key] ?? plugin, problem: "\(plugin) takes no options, but '\(key)' is given",
                fix: "remove it")
        }
    }
}
