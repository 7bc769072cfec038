// Opening, navigating, failing cleanly, and writing atomically.

import Foundation
import HDF5
import Testing

@Suite struct FileTests {
    /// A small valid file with a group tree and a dataset large enough that truncation cuts data.
    private func writeSample(to url: URL) throws {
        try HDF5File.writeAtomically(to: url, format: "gradfeat.test", version: 3) { file in
            try file.createGroup("train/images")
            try file.createDataset("train/labels", values: (0..<20_000).map { Int64($0 % 10) })
            try file.createDataset("test", values: [1, 2, 3] as [Float])
        }
    }

    @Test func groupsChildrenAndExists() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("tree.h5")
            try writeSample(to: url)
            let file = try HDF5File(url: url)
            #expect(file.path == url.path)
            #expect(try file.children() == ["test", "train"])
            let train = try file.group(named: "train")
            #expect(train.name == "/train")
            #expect(try train.children() == ["images", "labels"])
            #expect(try file.exists("train/images"))
            #expect(try file.exists("/train/labels"))
            #expect(try train.exists("labels"))
            #expect(try !file.exists("train/missing"))
            #expect(try !file.exists("test/below_a_dataset"))
            #expect(try !file.exists("nothing/here"))
            #expect(try file.objectKind(at: "train") == .group)
            #expect(try file.objectKind(at: "train/labels") == .dataset)
            #expect(try file.objectKind(at: "missing") == nil)
            #expect(try train.group(named: "images").name == "/train/images")
            #expect(try file.dataset(named: "train/labels").shape == [20_000])
            #expect(try file.group(named: "train/images").children() == [])

            let missing = #expect(throws: HDF5Error.self) { try file.group(named: "validation") }
            #expect(missing == .objectNotFound(file: url.path, path: "/validation"))
            let wrong = #expect(throws: HDF5Error.self) { try file.group(named: "test") }
            #expect(wrong == .wrongObjectKind(file: url.path, path: "/test", expected: "group", found: "dataset"))
            #expect(throws: HDF5Error.self) { try file.dataset(named: "train") }
        }
    }

    @Test func formatAndVersionAttributes() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("format.h5")
            try writeSample(to: url)
            let file = try HDF5File(url: url)
            try file.requireFormat("gradfeat.test", version: 3)
            let error = #expect(throws: HDF5Error.self) { try file.requireFormat("gradfeat.test", version: 4) }
            #expect(
                error
                    == .formatMismatch(
                        file: url.path, expected: "gradfeat.test version 4", found: "gradfeat.test version 3"))
            #expect(error?.description.contains("restore it from a copy") == true)
        }
    }

    @Test func readOnlyFilesRefuseWrites() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("readonly.h5")
            try writeSample(to: url)
            let file = try HDF5File(url: url)
            #expect(file.mode == .readOnly)
            #expect(throws: HDF5Error.self) { try file.createGroup("new") }
            #expect(throws: HDF5Error.self) { try file.setAttribute("x", 1) }
            #expect(throws: HDF5Error.self) { try file.dataset(named: "test").write([0, 0, 0] as [Float]) }
            try file.close() // libhdf5 refuses to open a file twice in different modes

            let writable = try HDF5File(url: url, mode: .readWrite)
            try writable.createGroup("new/deeper")
            try writable.close()
            #expect(try HDF5File(url: url).exists("new/deeper"))
        }
    }

    @Test func missingFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-\(UUID().uuidString).h5").path
        let error = #expect(throws: HDF5Error.self) { try HDF5File(path: path) }
        #expect(error == .fileNotFound(file: path))
        #expect(error?.description.contains(path) == true)
    }

    @Test func nonHDF5File() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("notes.h5")
            try Data("this is not an HDF5 file\n".utf8).write(to: url)
            let error = #expect(throws: HDF5Error.self) { try HDF5File(url: url) }
            #expect(error == .notHDF5(file: url.path))
            #expect(error?.description.contains("restore it from a copy") == true)
            try Data().write(to: url)
            #expect(throws: HDF5Error.self) { try HDF5File(url: url) }
        }
    }

    @Test(arguments: [0.5, 0.1])
    func truncatedFileGivesAnErrorNotACrash(keeping fraction: Double) throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("cut.h5")
            try writeSample(to: url)
            let size = try #require(FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int)
            let handle = try FileHandle(forWritingTo: url)
            try handle.truncate(atOffset: UInt64(Double(size) * fraction))
            try handle.close()
            let error = #expect(throws: HDF5Error.self) {
                let file = try HDF5File(url: url)
                _ = try file.dataset(named: "train/labels").read(as: Int64.self)
            }
            #expect(error?.file == url.path)
            #expect(error?.description.contains("restore it from a copy") == true)
            if case .library(_, _, _, let message)? = error { #expect(!message.isEmpty) }
        }
    }

    @Test func closeInvalidatesObjects() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("closed.h5")
            try writeSample(to: url)
            let file = try HDF5File(url: url)
            let dataset = try file.dataset(named: "test")
            try file.close()
            try file.close()
            let error = #expect(throws: HDF5Error.self) { try dataset.read(as: Float.self) }
            #expect(error == .closed(file: url.path, object: "/test"))
            #expect(throws: HDF5Error.self) { try file.children() }
        }
    }

    @Test func writeAtomicallyReplacesTheTarget() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("cache.h5")
            try writeSample(to: url)
            try HDF5File.writeAtomically(to: url, format: "gradfeat.test", version: 4) { file in
                try file.createDataset("replaced", values: [7] as [UInt8])
            }
            #expect(try fileNames(in: directory) == ["cache.h5"])
            let file = try HDF5File(url: url)
            try file.requireFormat("gradfeat.test", version: 4)
            #expect(try file.children() == ["replaced"])
        }
    }

    @Test func writeAtomicallyLeavesNoFileWhenTheBodyThrows() throws {
        struct Interrupted: Error {}
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("cache.h5")
            #expect(throws: Interrupted.self) {
                try HDF5File.writeAtomically(to: url) { file in
                    try file.createDataset("partial", values: [1, 2, 3] as [Float])
                    #expect(
                        try fileNames(in: directory) == ["cache.h5.tmp-\(ProcessInfo.processInfo.processIdentifier)"])
                    throw Interrupted()
                }
            }
            #expect(try fileNames(in: directory) == [])

            // An existing target survives a failed rewrite untouched, and HDF5 errors propagate.
            try writeSample(to: url)
            let before = try Data(contentsOf: url)
            #expect(throws: HDF5Error.self) {
                try HDF5File.writeAtomically(to: url) { file in
                    _ = try file.createDataset("x", values: [1.0] as [Double]).read(as: Float.self)
                }
            }
            #expect(try fileNames(in: directory) == ["cache.h5"])
            #expect(try Data(contentsOf: url) == before)
        }
    }

    @Test func errorsCarryHDF5sOwnMessage() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("dup.h5")
            try HDF5File.writeAtomically(to: url) { file in
                try file.createGroup("g")
                let error = #expect(throws: HDF5Error.self) { try file.createGroup("g") }
                guard case .library(let path, let object, let operation, let message)? = error else {
                    Issue.record("expected a library error, got \(String(describing: error))")
                    return
                }
                #expect(path.hasSuffix(".tmp-\(ProcessInfo.processInfo.processIdentifier)"))
                #expect(object == "/g")
                #expect(operation == "create group")
                #expect(message.contains("H5Gcreate2"))
                #expect(error?.localizedDescription.contains("H5Gcreate2") == true)
            }
        }
    }
}
