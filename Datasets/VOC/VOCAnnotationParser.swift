import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Reads the objects of a VOC annotation with an XML parser (Foundation's `XMLParser`, libxml2 underneath), so
/// attributes, comments, CDATA, character and predefined entities and any whitespace are read as XML means them.
/// Entities a document declares itself are not expanded (libxml2 through Foundation leaves them out). An object is an
/// `<object>` child of `<annotation>`; its class is its own `<name>` child (a person's `<part>`s have names of
/// their own, not counted) and `<difficult>1</difficult>` marks it difficult.
final class VOCAnnotationParser: NSObject, XMLParserDelegate {
    private(set) var objects: [VOC2007.Object] = []
    /// The open elements, outermost first.
    private(set) var path: [String] = []
    /// The line and code of the first error the parser reported.
    private(set) var firstError: (line: Int, code: Int)?
    private var text = ""
    private var name: String?
    private var difficult = false
    /// The first object without a `<name>`.
    private(set) var unnamedObject: Int?

    /// The objects of `xml`; throws naming `name` and the line of the first XML error.
    static func objects(in xml: String, name: String) throws(DatasetError) -> [VOC2007.Object] {
        let delegate = VOCAnnotationParser()
        let parser = XMLParser(data: Data(xml.utf8))
        parser.delegate = delegate
        // Nothing is fetched from outside the file.
        parser.shouldResolveExternalEntities = false
        // Foundation on Linux can return true from `parse()` after an error: the delegate's record decides.
        let parsed = parser.parse()
        if let (line, code) = delegate.firstError
            ?? (parsed ? nil : (parser.lineNumber, (parser.parserError as NSError?)?.code ?? 0))
        {
            throw .malformed(
                path: name, entry: nil,
                reason: "not well-formed XML at line \(line) (XMLParser error \(code))")
        }
        if let open = delegate.path.last {
            throw .malformed(path: name, entry: nil, reason: "not well-formed XML: <\(open)> is not closed")
        }
        if let index = delegate.unnamedObject {
            throw .missingField(path: name, field: "name", context: "object \(index)")
        }
        return delegate.objects
    }

    func parser(
        _ parser: XMLParser, didStartElement element: String, namespaceURI: String?,
        qualifiedName: String?, attributes: [String: String] = [:]
    ) {
        path.append(element)
        text = ""
        if isObject { (name, difficult) = (nil, false) }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) {
        if firstError == nil { firstError = (parser.lineNumber, (parseError as NSError).code) }
    }

    func parser(_ parser: XMLParser, foundCDATA block: Data) { text += String(decoding: block, as: UTF8.self) }

    func parser(_ parser: XMLParser, didEndElement element: String, namespaceURI: String?, qualifiedName: String?) {
        let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if path.count >= 2, path[path.count - 2] == "object", path.count == objectDepth + 1 {
            if element == "name" { name = value }
            if element == "difficult" { difficult = value == "1" }
        }
        if isObject {
            if let name {
                objects.append(VOC2007.Object(name: name, difficult: difficult))
            } else if unnamedObject == nil {
                unnamedObject = objects.count
            }
        }
        path.removeLast()
        text = ""
    }

    /// `<object>` directly under the root `<annotation>` (the depth the official files use).
    private let objectDepth = 2
    private var isObject: Bool { path.count == objectDepth && path.last == "object" }
}
