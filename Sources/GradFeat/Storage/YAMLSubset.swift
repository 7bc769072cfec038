import Foundation

/// A reader for the small part of YAML that configuration files use, turned into the JSON data model so that a
/// YAML file and a JSON file go through one decoding path (`Value.jsonData()`, then a `Decodable`).
///
/// What it reads:
/// - block mappings `key: value`, nested by indentation with spaces; keys plain or quoted;
/// - block lists (`- item` lines, indented under their key or level with it) and flow lists `[a, b, [c, d]]`;
/// - scalars: plain, `'single-quoted'` (`''` is a quote) or `"double-quoted"` (escapes `\"`, `\\`, `\n`, `\t`,
///   `\uXXXX`, …). Plain scalars resolve as in YAML 1.2's core schema: `null`, `~` or nothing is null, `true` /
///   `false` a boolean, `12`, `-3`, `0x1F` integers, `1e-3`, `.5`, `.inf`, `.nan` floats, anything else a string;
/// - comments from `#` (at the start of a line or after a space) to the end of the line; a leading `---` and a
///   trailing `...`.
///
/// Anything else — anchors and aliases (`&a`, `*a`), tags (`!!str`), multi-line strings (`|`, `>`, or a plain value
/// continued on the next line), flow mappings `{a: 1}`, mappings inside list items, tabs in indentation, directives,
/// several documents — throws `YAMLSubset.Error` naming the file, the line and how to write it instead. Nothing is
/// silently read differently from a full YAML parser.
public enum YAMLSubset {
    /// A YAML node in the JSON data model.
    public indirect enum Value: Sendable, Equatable {
        case null
        case bool(Bool)
        case int(Int)
        case double(Double)
        case string(String)
        case list([Value])
        case mapping([String: Value])

        /// The value as JSON (keys sorted), for a `JSONDecoder` or `JSONSerialization`.
        /// Throws `EncodingError` for `.inf` and `.nan`, which JSON cannot carry.
        public func jsonData() throws -> Data {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return try encoder.encode(self)
        }
    }

    /// Syntax the reader does not accept, with where it is and what to write instead.
    public struct Error: Swift.Error, CustomStringConvertible, Sendable, Equatable {
        /// The file (or the name given to `parse(_:file:)`).
        public var file: String
        /// 1-based line number.
        public var line: Int
        /// What is wrong.
        public var problem: String
        /// What to do about it.
        public var fix: String

        public init(file: String, line: Int, problem: String, fix: String) {
            self.file = file
            self.line = line
            self.problem = problem
            self.fix = fix
        }

        public var description: String { "\(file):\(line): \(problem); \(fix)" }
    }

    /// Reads a YAML file (UTF-8).
    public static func parse(contentsOf url: URL) throws -> Value {
        let data = try Data(contentsOf: url)
        guard let text = String(data: data, encoding: .utf8) else {
            throw Error(file: url.path, line: 1, problem: "the file is not UTF-8 text", fix: "save it as UTF-8")
        }
        return try parse(text, file: url.path)
    }

    /// Reads YAML text; `file` names it in errors. An empty document is `.null`.
    public static func parse(_ text: String, file: String = "<yaml>") throws -> Value {
        var parser = Parser(lines: try logicalLines(text, file: file), file: file)
        return try parser.document()
    }

    // MARK: - Lines

    /// A line with content: its number, its indentation (spaces) and its text without indentation and comment.
    struct Line {
        var number: Int
        var indent: Int
        var text: Substring
    }

    /// The lines holding content, with comments, blank lines and document markers removed.
    static func logicalLines(_ text: String, file: String) throws -> [Line] {
        var lines: [Line] = []
        var ended = false
        // "\r\n" is one Character in Swift: split on it as well as on "\n".
        let rawLines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
        for (offset, raw) in rawLines.enumerated() {
            let number = offset + 1
            var line = raw
            if line.last == "\r" { line = line.dropLast() }
            let indentation = line.prefix { $0 == " " || $0 == "\t" }
            let content = trimmingTrailingSpaces(withoutComment(line.dropFirst(indentation.count)))
            if content.isEmpty { continue }
            if indentation.contains("\t") {
                throw Error(file: file, line: number, problem: "a tab in the indentation",
                            fix: "indent with spaces only (YAML does not allow tabs there)")
            }
            if ended {
                throw Error(file: file, line: number, problem: "content after the end-of-document marker '...'",
                            fix: "remove the '...' line or what follows it")
            }
            if content == "---" || content.hasPrefix("--- ") {
                guard lines.isEmpty, content == "---" else {
                    throw Error(file: file, line: number, problem: "a second document (or content after '---')",
                                fix: "keep one document per file, with '---' alone on the first line if at all")
                }
                continue
            }
            if content == "..." { ended = true; continue }
            if content.hasPrefix("%") {
                throw Error(file: file, line: number, problem: "a directive ('\(content)')",
                            fix: "remove it: directives are not supported")
            }
            lines.append(Line(number: number, indent: indentation.count, text: content))
        }
        return lines
    }

    /// `text` up to a comment: `#` at its start or after a space, outside quotes. A quote opens a quoted scalar
    /// only where a scalar starts (after `: `, `- `, `[`, `,` or at the start), as in YAML.
    static func withoutComment(_ text: Substring) -> Substring {
        enum State { case plain, single, double }
        var state = State.plain
        var atScalarStart = true
        var previous: Character = " "
        var index = text.startIndex
        while index < text.endIndex {
            let c = text[index]
            switch state {
            case .plain:
                if c == "#" && (previous == " " || previous == "\t") { return text[..<index] }
                if (c == "\"" || c == "'") && atScalarStart {
                    state = c == "\"" ? .double : .single
                } else if c == " " || c == "\t" {
                    if previous == ":" || (previous == "-" && text[..<index].allSatisfy({ $0 == "-" || $0 == " " })) {
                        atScalarStart = true
                    }
                } else {
                    atScalarStart = c == "[" || c == ","
                }
            case .double:
                if c == "\\" {
                    index = text.index(after: index)
                    if index == text.endIndex { return text }
                } else if c == "\"" {
                    state = .plain
                    atScalarStart = false
                }
            case .single:
                if c == "'" {
                    state = .plain
                    atScalarStart = false
                }
            }
            previous = c
            index = text.index(after: index)
        }
        return text
    }

    static func trimmingTrailingSpaces(_ text: Substring) -> Substring {
        var end = text.endIndex
        while end > text.startIndex, text[text.index(before: end)] == " " || text[text.index(before: end)] == "\t" {
            end = text.index(before: end)
        }
        return text[..<end]
    }

    static func isListItem(_ text: Substring) -> Bool { text == "-" || text.hasPrefix("- ") }

    // MARK: - Blocks

    /// Recursive descent over the logical lines: a block is a mapping or a list at one indentation.
    struct Parser {
        let lines: [Line]
        let file: String
        var index = 0

        init(lines: [Line], file: String) {
            self.lines = lines
            self.file = file
        }

        func error(_ line: Line, _ problem: String, _ fix: String) -> Error {
            Error(file: file, line: line.number, problem: problem, fix: fix)
        }

        mutating func document() throws -> Value {
            guard let first = lines.first else { return .null }
            if lines.count == 1, !isListItem(first.text), Self.keySeparator(in: first.text) == nil {
                index = 1
                return try scalarOrFlow(first.text, first)  // a document that is a single value
            }
            let value = try block(indent: first.indent)
            if index < lines.count {
                throw error(lines[index], "this line is indented less than the first line",
                            "indent the top-level keys equally, starting in the first column")
            }
            return value
        }

        mutating func block(indent: Int) throws -> Value {
            isListItem(lines[index].text) ? try list(indent: indent) : try mapping(indent: indent)
        }

        mutating func mapping(indent: Int) throws -> Value {
            var result: [String: Value] = [:]
            var keyLines: [String: Int] = [:]
            while index < lines.count {
                let line = lines[index]
                if line.indent < indent { break }
                if line.indent > indent {
                    throw error(line, "unexpected indentation",
                                "indent the keys of one mapping equally; a nested mapping or list goes under a key that ends with ':'")
                }
                if isListItem(line.text) {
                    throw error(line, "a list item where a 'key: value' line was expected",
                                "put the list under a key ('key:' then '- item' lines), or write it as [a, b]")
                }
                let (key, rest) = try splitKey(line)
                if let earlier = keyLines[key] {
                    throw error(line, "the key '\(key)' appears twice (first on line \(earlier))", "keep one of them")
                }
                keyLines[key] = line.number
                index += 1
                let value: Value
                if rest.isEmpty {
                    if index < lines.count, lines[index].indent > indent {
                        value = try block(indent: lines[index].indent)
                    } else if index < lines.count, lines[index].indent == indent, isListItem(lines[index].text) {
                        value = try list(indent: indent)  // a list level with its key
                    } else {
                        value = .null
                    }
                } else {
                    value = try scalarOrFlow(rest, line)
                    try rejectContinuation(after: line, indent: indent, of: "the value of '\(key)'")
                }
                result[key] = value
            }
            return .mapping(result)
        }

        mutating func list(indent: Int) throws -> Value {
            var items: [Value] = []
            while index < lines.count {
                let line = lines[index]
                if line.indent < indent { break }
                if line.indent > indent {
                    throw error(line, "unexpected indentation", "start each list item with '- ' at the same indentation")
                }
                guard isListItem(line.text) else { break }  // a key level with the list ends it
                let rest = line.text.dropFirst().drop { $0 == " " }
                index += 1
                if rest.isEmpty {
                    if index < lines.count, lines[index].indent > indent {
                        items.append(try block(indent: lines[index].indent))
                    } else {
                        items.append(.null)
                    }
                    continue
                }
                if isListItem(rest) {
                    throw error(line, "a list nested on the item's line ('- - …')", "write the inner list as [a, b]")
                }
                if rest.first != "\"" && rest.first != "'" && rest.first != "[" && Self.keySeparator(in: rest) != nil {
                    throw error(line, "a mapping inside a list item ('- key: value')",
                                "quote the item if it is a string, or give the mapping its own key")
                }
                items.append(try scalarOrFlow(rest, line))
                try rejectContinuation(after: line, indent: indent, of: "this list item")
            }
            return .list(items)
        }

        /// A value on one line must not continue on the next, more indented, line (a multi-line plain scalar).
        func rejectContinuation(after line: Line, indent: Int, of what: String) throws {
            guard index < lines.count, lines[index].indent > indent else { return }
            throw error(lines[index], "this line continues \(what) from line \(line.number)",
                        "multi-line values are not supported: write the value on one line (quoted if it holds ': ' or ' #')")
        }

        /// `key` and the text after `key:`.
        func splitKey(_ line: Line) throws -> (String, Substring) {
            let text = line.text
            if let first = text.first, first == "\"" || first == "'" {
                var cursor = Cursor(text: text, line: line, file: file)
                let key = try cursor.quoted()
                let after = cursor.rest
                guard after.first == ":", after.count == 1 || after.dropFirst().first == " " else {
                    throw error(line, "a quoted key without ': ' after it", "write \"key\": value")
                }
                return (key, after.dropFirst().drop { $0 == " " })
            }
            guard let separator = Self.keySeparator(in: text) else {
                throw error(line, "expected 'key: value'",
                            "write a key, a colon, a space and the value; a value continued on a new line is not supported")
            }
            let key = trimmingTrailingSpaces(text[..<separator])
            if let first = key.first, "[{&*!|>?@`%".contains(first) {
                throw error(line, "a key starting with '\(first)'",
                            "use a plain word as key, or quote it (complex keys, anchors and tags are not supported)")
            }
            return (String(key), text[text.index(after: separator)...].drop { $0 == " " })
        }

        /// The colon that ends a plain key: the first `:` followed by a space or the end of the line.
        static func keySeparator(in text: Substring) -> Substring.Index? {
            var index = text.startIndex
            while index < text.endIndex {
                let next = text.index(after: index)
                if text[index] == ":" && (next == text.endIndex || text[next] == " ") { return index }
                index = next
            }
            return nil
        }

        /// A value on the rest of a line: a quoted or plain scalar, or a flow list.
        func scalarOrFlow(_ text: Substring, _ line: Line) throws -> Value {
            var cursor = Cursor(text: text, line: line, file: file)
            let value = try cursor.value(inFlow: false)
            guard cursor.rest.isEmpty else {
                throw error(line, "unexpected text '\(cursor.rest)' after the value", "quote the whole value, or remove the extra text")
            }
            return value
        }
    }

    // MARK: - Scalars and flow lists

    /// A scanner over the text of one line.
    struct Cursor {
        var text: Substring
        let line: Line
        let file: String

        var rest: Substring { text.drop { $0 == " " } }

        func error(_ problem: String, _ fix: String) -> Error {
            Error(file: file, line: line.number, problem: problem, fix: fix)
        }

        mutating func skipSpaces() { text = text.drop { $0 == " " } }

        /// A scalar or a flow list; `inFlow`: inside `[…]`, where `,` and `]` end a plain scalar.
        mutating func value(inFlow: Bool) throws -> Value {
            skipSpaces()
            guard let first = text.first else { return .null }
            switch first {
            case "\"", "'": return .string(try quoted())
            case "[": return try flowList()
            case "{":
                throw error("a flow mapping '{…}'", "write the mapping as indented 'key: value' lines under its key")
            case "&", "*":
                throw error("an anchor or alias ('\(first)…')", "anchors and aliases are not supported: repeat the value")
            case "!":
                throw error("a tag ('!…')", "tags are not supported: write the value plainly, or quote it to make it a string")
            case "|", ">":
                throw error("a multi-line string ('\(first)')",
                            "multi-line strings are not supported: write the string on one line in double quotes, with \\n for line breaks")
            case "%", "@", "`":
                throw error("a value starting with the reserved character '\(first)'", "quote the value")
            default:
                return try plain(inFlow: inFlow)
            }
        }

        mutating func plain(inFlow: Bool) throws -> Value {
            let end = inFlow ? (text.firstIndex { $0 == "," || $0 == "]" } ?? text.endIndex) : text.endIndex
            let scalar = trimmingTrailingSpaces(text[..<end])
            text = text[end...]
            if inFlow, let c = scalar.first(where: { "[{".contains($0) }) {
                throw error("'\(c)' inside a plain list entry", "quote the entry")
            }
            if Parser.keySeparator(in: scalar) != nil {
                throw error("': ' inside the value '\(scalar)'", "quote the value (a mapping cannot start here)")
            }
            return Self.resolve(scalar)
        }

        /// YAML 1.2 core-schema resolution of a plain scalar.
        static func resolve(_ s: Substring) -> Value {
            switch s {
            case "", "~", "null", "Null", "NULL": return .null
            case "true", "True", "TRUE": return .bool(true)
            case "false", "False", "FALSE": return .bool(false)
            case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .double(.infinity)
            case "-.inf", "-.Inf", "-.INF": return .double(-.infinity)
            case ".nan", ".NaN", ".NAN": return .double(.nan)
            default: break
            }
            if s.hasPrefix("0x"), let value = Int(s.dropFirst(2), radix: 16) { return .int(value) }
            if s.hasPrefix("0o"), let value = Int(s.dropFirst(2), radix: 8) { return .int(value) }
            if isInteger(s) { return Int(s).map(Value.int) ?? .double(Double(s)!) }
            if isFloat(s), let value = Double(s) { return .double(value) }
            return .string(String(s))
        }

        static func isDigit(_ c: Character) -> Bool { c >= "0" && c <= "9" }

        static func isInteger(_ s: Substring) -> Bool {
            let digits = s.first == "-" || s.first == "+" ? s.dropFirst() : s
            return !digits.isEmpty && digits.allSatisfy(isDigit)
        }

        /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
        static func isFloat(_ s: Substring) -> Bool {
            var rest = s.first == "-" || s.first == "+" ? s.dropFirst() : s
            let whole = rest.prefix(while: isDigit).count
            rest = rest.dropFirst(whole)
            var fraction = 0
            if rest.first == "." {
                rest = rest.dropFirst()
                fraction = rest.prefix(while: isDigit).count
                rest = rest.dropFirst(fraction)
            }
            guard whole + fraction > 0 else { return false }
            if rest.first == "e" || rest.first == "E" {
                rest = rest.dropFirst()
                if rest.first == "-" || rest.first == "+" { rest = rest.dropFirst() }
                let exponent = rest.prefix(while: isDigit).count
                guard exponent > 0 else { return false }
                rest = rest.dropFirst(exponent)
            }
            return rest.isEmpty
        }

        /// A single- or double-quoted scalar starting at the cursor, which ends after its closing quote.
        mutating func quoted() throws -> String {
            let quote = text.first!
            text = text.dropFirst()
            var result = ""
            while let c = text.first {
                text = text.dropFirst()
                if c == quote {
                    if quote == "'" && text.first == "'" {  // '' is a quote inside single quotes
                        result.append("'")
                        text = text.dropFirst()
                        continue
                    }
                    return result
                }
                if c == "\\" && quote == "\"" {
                    result.append(try escape())
                } else {
                    result.append(c)
                }
            }
            throw error("an unclosed \(quote == "'" ? "single" : "double")-quoted string",
                        "close the quote on the same line (multi-line strings are not supported)")
        }

        mutating func escape() throws -> Character {
            guard let c = text.first else { throw error("a '\\' at the end of the line", "write \\\\ for a backslash") }
            text = text.dropFirst()
            switch c {
            case "\\", "\"", "/": return c
            case "n": return "\n"
            case "t": return "\t"
            case "r": return "\r"
            case "0": return "\0"
            case " ": return " "
            case "x", "u", "U":
                let width = c == "x" ? 2 : c == "u" ? 4 : 8
                let digits = text.prefix(width)
                guard digits.count == width, let code = UInt32(digits, radix: 16), let scalar = Unicode.Scalar(code) else {
                    throw error("a bad '\\\(c)' escape", "write \\\(c) followed by \(width) hexadecimal digits")
                }
                text = text.dropFirst(width)
                return Character(scalar)
            default:
                throw error("the unknown escape '\\\(c)'", "write \\\\ for a backslash, or use single quotes")
            }
        }

        /// `[a, b, [c]]` on one line; a trailing comma is allowed.
        mutating func flowList() throws -> Value {
            text = text.dropFirst()  // "["
            let unclosed = error("an unclosed '['", "close the list on the same line (flow lists cannot span lines)")
            var items: [Value] = []
            while true {
                skipSpaces()
                guard let c = text.first else { throw unclosed }
                if c == "]" {
                    text = text.dropFirst()
                    return .list(items)
                }
                if c == "," { throw error("an empty entry in a list", "remove the extra ','") }
                items.append(try value(inFlow: true))
                skipSpaces()
                switch text.first {
                case ",": text = text.dropFirst()
                case "]": continue
                case nil: throw unclosed
                default:
                    throw error("expected ',' or ']' in the list, found '\(text.prefix(10))'", "separate entries with ', '")
                }
            }
        }
    }
}

extension YAMLSubset.Value: Encodable {
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case let .bool(value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case let .int(value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case let .double(value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case let .string(value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case let .list(items):
            var container = encoder.unkeyedContainer()
            for item in items { try container.encode(item) }
        case let .mapping(entries):
            var container = encoder.container(keyedBy: Key.self)
            for (key, value) in entries { try container.encode(value, forKey: Key(stringValue: key)) }
        }
    }
}
