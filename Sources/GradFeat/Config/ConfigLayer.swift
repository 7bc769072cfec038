import Foundation
import Yams

/// One source of configuration keys — a preset, a command's defaults, a config file, the command line — with where
/// each value came from, so that an error names the file, line and column, or the option, that set it.
///
/// Layers are applied in order, later ones winning key by key (`ConfigLayer.merged`): preset < command defaults <
/// file < command line, for every key.
public struct ConfigLayer: Sendable, Equatable {
    /// The top-level keys and their values.
    public var values: [String: ConfigValue]
    /// Where each value came from, by dotted key path (`lr`, `mode.1.options.width`): "file run.yaml, line 3,
    /// column 5" or "option --lr".
    public var origins: [String: String]

    public init(values: [String: ConfigValue] = [:], origins: [String: String] = [:]) {
        self.values = values
        self.origins = origins
    }

    /// Sets `key` to `value`, noting `origin`.
    public mutating func set(_ key: String, _ value: ConfigValue, origin: String) {
        values[key] = value
        origins = origins.filter { $0.key != key && !$0.key.hasPrefix(key + ".") }
        origins[key] = origin
    }

    /// `layers` laid over each other in order: a later layer's key replaces an earlier one's whole.
    public static func merged(_ layers: [ConfigLayer]) -> ConfigLayer {
        var result = ConfigLayer()
        for layer in layers {
            for (key, value) in layer.values {
                result.values[key] = value
                result.origins = result.origins.filter {
                    let path = $0.key.hasPrefix(keyMarker) ? String($0.key.dropFirst(keyMarker.count)) : $0.key
                    return path != key && !path.hasPrefix(key + ".")
                }
            }
            for (path, origin) in layer.origins { result.origins[path] = origin }
        }
        return result
    }

    /// Prefixes the origin of a key itself (where a YAML file wrote the key, not its value), for unknown keys.
    public static let keyMarker = "key:"

    /// Where the key `key` itself was written, else where its value came from.
    public func originOfKey(_ key: String) -> String? { origins[Self.keyMarker + key] ?? origin(of: [key]) }

    /// Where the value at `path` (or its nearest enclosing key) came from.
    public func origin(of path: [String]) -> String? {
        var path = path
        while !path.isEmpty {
            if let origin = origins[path.joined(separator: ".")] { return origin }
            path.removeLast()
        }
        return nil
    }

    // MARK: - Config files

    /// Deepest nesting a config file may have (a config needs three or four levels).
    public static let maximumDepth = 32

    /// The mapping of a config file: JSON (`.json`, through Foundation) or YAML (`.yaml`, `.yml`, through Yams).
    ///
    /// YAML is read strictly, so that a file means one thing: `true`/`false` are the only Booleans (`yes` stays a
    /// string, which a Bool key refuses), numbers are plain decimal or exponent notation, `null`, `~` or nothing is
    /// null, and anchors, aliases and tags are refused with the line and column. Every value keeps its line and
    /// column for later messages.
    public static func file(_ url: URL) throws -> ConfigLayer {
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigError(
                location: "config file \(path)", problem: "no such file",
                fix: "check the path given to --config")
        }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ConfigError(
                location: "config file \(path)", problem: "unreadable (\(error.localizedDescription))",
                fix: "check its permissions")
        }
        guard data.count <= 1 << 20 else {
            throw ConfigError(
                location: "config file \(path)", problem: "larger than 1 MiB",
                fix: "a config file holds a few keys; pass the right file")
        }
        switch url.pathExtension.lowercased() {
        case "json": return try json(data, path: path)
        case "yaml", "yml":
            guard let text = String(data: data, encoding: .utf8) else {
                throw ConfigError(location: "config file \(path)", problem: "not UTF-8 text", fix: "save it as UTF-8")
            }
            return try yaml(text, path: path)
        default:
            throw ConfigError(
                location: "config file \(path)", problem: "unknown kind of file",
                fix: "name it .json, .yaml or .yml")
        }
    }

    /// A JSON config file's mapping. Foundation checks the JSON syntax; the mapping is then composed by the YAML
    /// reader (JSON is YAML's flow style), which gives every value its line and column and refuses repeated keys —
    /// Foundation keeps one of them silently.
    static func json(_ data: Data, path: String) throws -> ConfigLayer {
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
            throw ConfigError(
                location: "config file \(path)", problem: "not valid JSON (\(detail))",
                fix: "correct the syntax, or write the file as YAML")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(location: "config file \(path)", problem: "not UTF-8 text", fix: "save it as UTF-8")
        }
        return try yaml(text, path: path)
    }

    /// A YAML config file's mapping, composed by Yams with each node's mark.
    static func yaml(_ text: String, path: String) throws -> ConfigLayer {
        func location(_ mark: Mark?) -> String {
            mark.map { "config file \(path), line \($0.line), column \($0.column)" } ?? "config file \(path)"
        }
        let parser: Parser
        let root: Node?
        do {
            parser = try Parser(yaml: text)
            root = try parser.singleRoot()
        } catch let error as YamlError {
            throw ConfigError(
                location: "config file \(path)", problem: "not valid YAML (\(error))",
                fix: "correct the syntax at the line shown")
        }
        var layer = ConfigLayer()
        // The parser holds the anchors its nodes point to (weakly): keep it alive while the tree is walked.
        try withExtendedLifetime(parser) {
            func convert(_ node: Node, _ keys: [String], depth: Int) throws -> ConfigValue {
                let here = location(node.mark)
                guard depth <= maximumDepth else {
                    throw ConfigError(
                        location: here, problem: "nested deeper than \(maximumDepth) levels",
                        fix: "a config file needs a few levels; flatten it")
                }
                if node.anchor != nil {
                    throw ConfigError(
                        location: here, problem: "an anchor (&name) or alias (*name)",
                        fix: "write the value out where it is used")
                }
                if !keys.isEmpty { layer.origins[keys.joined(separator: ".")] = here }
                switch node {
                case let .scalar(scalar):
                    return try Self.scalar(scalar, location: here)
                case let .sequence(sequence):
                    try refuseTag(sequence.tag, location: here)
                    return .array(
                        try sequence.enumerated().map { try convert($1, keys + [String($0)], depth: depth + 1) })
                case let .mapping(mapping):
                    try refuseTag(mapping.tag, location: here)
                    var entries: [String: ConfigValue] = [:]
                    for (keyNode, valueNode) in mapping {
                        guard case let .scalar(key) = keyNode, keyNode.anchor == nil else {
                            throw ConfigError(
                                location: location(keyNode.mark), problem: "a key that is not plain text",
                                fix: "write keys as names (lr, model, …)")
                        }
                        guard entries[key.string] == nil else {
                            throw ConfigError(
                                location: location(keyNode.mark),
                                problem: "key '\(key.string)' appears twice", fix: "keep one of them")
                        }
                        layer.origins[Self.keyMarker + (keys + [key.string]).joined(separator: ".")] = location(
                            keyNode.mark)
                        entries[key.string] = try convert(valueNode, keys + [key.string], depth: depth + 1)
                    }
                    return .object(entries)
                case .alias:
                    throw ConfigError(
                        location: here, problem: "an alias (*name)", fix: "write the value out where it is used")
                }
            }
            guard let root else { return } // an empty file sets nothing
            guard case .mapping = root else {
                throw ConfigError(
                    location: location(root.mark), problem: "the top level is not a mapping",
                    fix: "write one mapping of keys (model: …, lr: …)")
            }
            guard case let .object(values) = try convert(root, [], depth: 0) else { return }
            layer.values = values
        }
        return layer
    }

    /// Refuses an explicit tag (`!!str`, `!custom`): every key has one type, so a tag could only disagree with it.
    /// Yams gives a quoted scalar the string tag it implies (`quoted`), which is no explicit tag.
    private static func refuseTag(_ tag: Tag, location: String, quoted: Bool = false) throws {
        let implied = quoted ? ["", "!", "?", "tag:yaml.org,2002:str"] : ["", "!", "?"]
        guard implied.contains(tag.rawValue) else {
            throw ConfigError(
                location: location, problem: "a tag (\(tag.rawValue))", fix: "remove the tag; keys have fixed types")
        }
    }

    /// A scalar under the strict rules above.
    static func scalar(_ scalar: Node.Scalar, location: String) throws -> ConfigValue {
        let text = scalar.string
        try refuseTag(scalar.tag, location: location, quoted: scalar.style != .plain && scalar.style != .any)
        guard scalar.style == .plain || scalar.style == .any else { return .string(text) }
        switch text {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "", "~", "null": return .null
        default: break
        }
        if text.range(of: #"^[-+]?[0-9]+$"#, options: .regularExpression) != nil {
            guard let value = Int64(text.hasPrefix("+") ? String(text.dropFirst()) : text) else {
                throw ConfigError(
                    location: location, problem: "\(text) does not fit in 64 bits", fix: "write a smaller number")
            }
            return .int(value)
        }
        if text.range(of: #"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$"#, options: .regularExpression)
            != nil,
            let value = Double(text)
        {
            guard value.isFinite else {
                throw ConfigError(
                    location: location, problem: "\(text) is not a finite number", fix: "write a finite number")
            }
            return .double(value)
        }
        if [".inf", "-.inf", "+.inf", ".nan", ".Inf", ".NaN", ".INF", ".NAN"].contains(text) {
            throw ConfigError(
                location: location, problem: "\(text) is not a finite number", fix: "write a finite number")
        }
        return .string(text)
    }
}

/// A config value that cannot be used: where it is (file, line, column — or the option), what is wrong, what to do.
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    public var location: String
    public var problem: String
    public var fix: String

    public init(location: String, problem: String, fix: String) {
        self.location = location
        self.problem = problem
        self.fix = fix
    }

    public var description: String { "\(location): \(problem); \(fix)" }
}
