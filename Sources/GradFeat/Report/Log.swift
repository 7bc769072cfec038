import Foundation

/// Messages for people, on standard error (standard output carries results and tables).
public enum Log {
    /// Prints `message` as one line on standard error.
    public static func note(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}
