/// What a conformance check found wrong, one line per failed property, each saying what to fix.
public struct ConformanceFailure: Error, CustomStringConvertible, Sendable {
    /// The plugin checked ("extractor 'probe-ext'").
    public var subject: String
    public var problems: [String]

    public var description: String {
        "\(subject) fails the GradFeat conformance kit:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}

/// Collects problems and throws them together, so that one run of the kit shows everything that is wrong (a class:
/// the checks' closures record into it).
final class ProblemList {
    var problems: [String] = []

    func check(_ condition: Bool, _ problem: @autoclosure () -> String) {
        if !condition { problems.append(problem()) }
    }

    /// Runs `body`, recording a thrown error as a problem prefixed by `what`.
    func attempt(_ what: String, _ body: () throws -> Void) {
        do { try body() } catch { problems.append("\(what) threw: \(error)") }
    }

    func throwIfAny(subject: String) throws {
        if !problems.isEmpty { throw ConformanceFailure(subject: subject, problems: problems) }
    }
}
