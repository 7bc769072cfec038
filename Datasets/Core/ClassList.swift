/// Checks on the class names a data set declares: the names give the label indices, so a repeated or empty name
/// would silently relabel every later class.
public enum ClassList {
    /// `names` unchanged, or an error naming `path` and the first empty or repeated name.
    public static func checked(_ names: [String], path: String) throws(DatasetError) -> [String] {
        var seen: [String: Int] = [:]
        for (index, name) in names.enumerated() {
            guard !name.isEmpty else {
                throw .malformed(path: path, entry: nil, reason: "class \(index) has an empty name")
            }
            if let first = seen[name] {
                throw .malformed(
                    path: path, entry: nil,
                    reason: "class '\(name)' is listed twice (as class \(first) and class \(index)); every class "
                        + "name must appear once, since its position is its label")
            }
            seen[name] = index
        }
        return names
    }

    /// Why two splits' class lists disagree (naming the first class that differs), or `nil` when they are equal.
    public static func disagreement(_ train: [String], _ test: [String]) -> String? {
        guard train != test else { return nil }
        if let missing = train.first(where: { !test.contains($0) }) {
            return "the test split lacks class '\(missing)' (\(train.count) train classes, \(test.count) test classes)"
        }
        if let extra = test.first(where: { !train.contains($0) }) {
            return "the test split has class '\(extra)', which the train split lacks"
        }
        let index = train.indices.first { $0 < test.count && train[$0] != test[$0] } ?? 0
        return "class \(index) is '\(train[index])' in the train split but '\(test[index])' in the test split"
    }
}
