import Foundation

/// Locates the shared real data sets (`../shared/datasets` beside the package root, or
/// `GRADFEAT_DATA_DIR`) and reports why a test is skipped when they are absent.
enum SharedData {
    /// The data folder: `GRADFEAT_DATA_DIR` if set, else `<package root>/../shared/datasets`.
    static let root: String = {
        if let dir = ProcessInfo.processInfo.environment["GRADFEAT_DATA_DIR"], !dir.isEmpty {
            return dir
        }
        // #filePath = <root>/Tests/DatasetsTests/SharedData.swift
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return packageRoot.deletingLastPathComponent()
            .appendingPathComponent("shared/datasets").standardizedFileURL.path
    }()

    /// Path of a file under the data folder.
    static func path(_ relative: String) -> String { root + "/" + relative }

    /// Whether a file under the data folder exists; prints the reason when it does not.
    static func available(_ relative: String) -> Bool {
        let exists = FileManager.default.fileExists(atPath: path(relative))
        if !exists {
            print("SKIP: \(path(relative)) is absent (set GRADFEAT_DATA_DIR to the shared datasets)")
        }
        return exists
    }

    static let fashionMNIST = "/usr/share/datasets/fashion-mnist"

    static var fashionMNISTAvailable: Bool {
        let exists = FileManager.default.fileExists(atPath: fashionMNIST + "/train-images-idx3-ubyte.gz")
        if !exists {
            print("SKIP: \(fashionMNIST) is absent (apt-get install dataset-fashion-mnist)")
        }
        return exists
    }
}

/// A fresh temporary folder for generated test files, removed by `cleanup()`.
struct TemporaryFolder {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "gradfeat-datasets-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ relative: String) -> String { path + "/" + relative }

    func write(_ bytes: [UInt8], to relative: String) throws {
        let target = file(relative)
        try FileManager.default.createDirectory(
            atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: target))
    }

    func write(_ text: String, to relative: String) throws {
        try write(Array(text.utf8), to: relative)
    }

    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

/// Runs a command-line tool (such as `tar`) and fails the test when it fails.
@discardableResult
func runTool(_ executable: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw ToolFailure(command: ([executable] + arguments).joined(separator: " "))
    }
    return String(decoding: data, as: UTF8.self)
}

struct ToolFailure: Error, CustomStringConvertible {
    let command: String
    var description: String { "command failed: \(command)" }
}

/// A deterministic test image `[C, H, W]` with smooth gradients (compresses well as JPEG).
func syntheticImage(seed: Int, channels: Int = 3, height: Int = 8, width: Int = 8) -> [UInt8] {
    var pixels = [UInt8](repeating: 0, count: channels * height * width)
    for c in 0..<channels {
        for y in 0..<height {
            for x in 0..<width {
                pixels[(c * height + y) * width + x] = UInt8((seed * 37 + c * 60 + y * 9 + x * 5) % 256)
            }
        }
    }
    return pixels
}
