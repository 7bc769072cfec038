import Datasets
import Foundation
import HDF5
import Testing

@Suite("Data-set cache (HDF5)")
struct DatasetCacheTests {
    /// A reproducible set of `count` images `[channels, 5, 4]` with single or multi labels over 4 classes.
    private func makeSet(count: Int, channels: Int = 3, multiLabel: Bool = false) -> ImageSet {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        let (h, w, k) = (5, 4, 4)
        let pixels = (0..<(count * channels * h * w)).map { _ in UInt8(truncatingIfNeeded: next()) }
        let labels: ImageSet.Labels =
            multiLabel
            ? .multi((0..<(count * k)).map { _ in Int8(Int(next() % 3) - 1) })
            : .single((0..<count).map { _ in Int64(next() % UInt64(k)) })
        return ImageSet(
            images: pixels, count: count, channels: channels, height: h, width: w, labels: labels,
            classNames: ["cat", "dog", "ship", "truck"], source: "/data/test-source", split: "train")
    }

    private func url(_ folder: TemporaryFolder, _ name: String) -> URL { URL(fileURLWithPath: folder.file(name)) }

    /// Writes a file in the cache layout whose parts can be spoilt one at a time.
    private func writeCustom(
        to url: URL, format: String = DatasetCache.format, count: Int = 6, countAttribute: Int? = nil,
        classNames: [String] = ["a", "b", "c"],
        imageShape: [Int] = [1, 2, 2], labels: (HDF5File) throws -> Void
    ) throws {
        try HDF5File.writeAtomically(to: url, format: format, version: 1) { file in
            try file.setAttribute("class_names", classNames)
            try file.setAttribute("source", "handmade")
            try file.setAttribute("split", "test")
            try file.setAttribute("count", countAttribute ?? count)
            try file.setAttribute("image_shape", imageShape)
            try file.createDataset(
                "images", values: [UInt8](repeating: 7, count: count * imageShape.reduce(1, *)),
                shape: [count] + imageShape)
            try labels(file)
        }
    }

    /// Runs `body`, expecting an ``DatasetError/invalidCache(path:reason:remedy:)`` for `url` whose text
    /// contains every string of `mentions`.
    private func expectInvalidCache(
        _ url: URL, mentioning mentions: [String], sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () throws -> Void
    ) {
        do {
            try body()
            Issue.record("expected an invalid-cache error for \(url.path)", sourceLocation: sourceLocation)
        } catch let error as DatasetError {
            guard case .invalidCache(let path, _, _) = error else {
                Issue.record("expected invalidCache, got \(error)", sourceLocation: sourceLocation)
                return
            }
            #expect(path == url.path, sourceLocation: sourceLocation)
            for text in mentions + [url.path] {
                #expect(error.description.contains(text), "\(error.description)", sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record("expected a DatasetError, got \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test("A single-label set survives a round trip, with the documented layout")
    func singleLabelRoundTrip() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let set = makeSet(count: 41)
        let target = url(folder, "single.h5")
        var progress: [Int] = []
        try DatasetCache.write(set, to: target) { progress.append($0) }
        #expect(progress.last == 41)
        #expect(try DatasetCache.read(target) == set)

        let file = try HDF5File(url: target)
        try file.requireFormat("gradfeat-dataset", version: 1)
        let images = try file.dataset(named: "images")
        #expect(images.elementType == .uint8 && images.shape == [41, 3, 5, 4])
        let labels = try file.dataset(named: "labels")
        #expect(labels.elementType == .int64 && labels.shape == [41])
        #expect(try file.attribute("class_names", as: [String].self) == set.classNames)
        #expect(try file.attribute("count", as: Int.self) == 41)
        #expect(try file.attribute("image_shape", as: [Int].self) == [3, 5, 4])
        #expect(try file.attribute("split", as: String.self) == "train")
        #expect(try file.attribute("source", as: String.self) == "/data/test-source")
        // Only the target remains: no temporary file beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["single.h5"])
    }

    @Test("A multi-label set (flags 1 / 0 / -1) survives a round trip")
    func multiLabelRoundTrip() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let set = makeSet(count: 23, channels: 1, multiLabel: true)
        let target = url(folder, "multi.h5")
        try DatasetCache.write(set, to: target)
        let back = try DatasetCache.read(target)
        #expect(back == set)
        #expect(back.flagCounts == set.flagCounts)
        let labels = try HDF5File(url: target).dataset(named: "labels")
        #expect(labels.elementType == .int8 && labels.shape == [23, 4])
    }

    @Test("An empty set survives a round trip")
    func emptyRoundTrip() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let set = makeSet(count: 0)
        try DatasetCache.write(set, to: url(folder, "empty.h5"))
        #expect(try DatasetCache.read(url(folder, "empty.h5")) == set)
    }

    @Test("Streamed batches equal the in-memory set", arguments: [false, true])
    func streamedBatches(multiLabel: Bool) throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let set = makeSet(count: 100, multiLabel: multiLabel)
        let target = url(folder, "stream.h5")
        try DatasetCache.write(set, to: target)
        let reader = try DatasetCacheReader(url: target)
        #expect(reader.count == 100 && reader.imageShape == [3, 5, 4] && reader.classNames == set.classNames)
        #expect(reader.isMultiLabel == multiLabel && reader.split == "train" && reader.source == set.source)

        var assembled = [UInt8]()
        for start in stride(from: 0, to: 100, by: 32) {
            let rows = start..<min(100, start + 32)
            let (images, labels) = try reader.batch(rows: rows)
            let expected = set.subset(rows)
            #expect(images == expected.images)
            #expect(labels == expected.labels)
            assembled += images
        }
        #expect(assembled == set.images)

        let indices = [99, 0, 17, 17, 64, 3, 50, 18]
        let (images, labels) = try reader.batch(indices: indices)
        #expect(images == set.subset(indices).images)
        #expect(labels == set.subset(indices).labels)
        #expect(try reader.subset(indices) == set.subset(indices))
        #expect(try reader.batch(indices: []).images.isEmpty)

        expectInvalidCache(target, mentioning: ["0..<100"]) { _ = try reader.batch(rows: 90..<101) }
        expectInvalidCache(target, mentioning: ["100"]) { _ = try reader.batch(indices: [3, 100]) }
    }

    @Test("A truncated file is refused with a message naming it and saying to rebuild it")
    func truncatedFile() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let target = url(folder, "cut.h5")
        try DatasetCache.write(makeSet(count: 200), to: target)
        let bytes = try Data(contentsOf: target)
        for keep in [bytes.count / 2, 100] {
            try bytes.prefix(keep).write(to: target)
            expectInvalidCache(target, mentioning: ["truncated or corrupt", "Rebuild it with `gradfeat cache"]) {
                _ = try DatasetCache.read(target)
            }
        }
        try Data("not an HDF5 file at all".utf8).write(to: target)
        expectInvalidCache(target, mentioning: ["not an HDF5 file"]) { _ = try DatasetCache.read(target) }
    }

    @Test("A missing file is reported as not found, with how to make it")
    func missingFile() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let target = url(folder, "absent.h5")
        #expect(throws: DatasetError.self) { try DatasetCache.read(target) }
        do {
            _ = try DatasetCache.read(target)
        } catch {
            guard case .fileNotFound(let path, _) = error else {
                Issue.record("expected fileNotFound, got \(error)")
                return
            }
            #expect(path == target.path)
            #expect(error.description.contains("gradfeat cache"))
        }
    }

    @Test("Labels of a wrong dtype or shape are refused")
    func wrongLabels() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let target = url(folder, "labels.h5")

        try writeCustom(to: target) { try $0.createDataset("labels", values: [Int32](repeating: 0, count: 6)) }
        expectInvalidCache(target, mentioning: ["/labels is int32", "int64 [N]"]) { _ = try DatasetCache.read(target) }

        try writeCustom(to: target) { try $0.createDataset("labels", values: [Int64](repeating: 0, count: 5)) }
        expectInvalidCache(target, mentioning: ["/labels has 5 rows", "/images has 6"]) {
            _ = try DatasetCache.read(target)
        }

        try writeCustom(to: target) {
            try $0.createDataset("labels", values: [Int8](repeating: 1, count: 12), shape: [6, 2])
        }
        expectInvalidCache(target, mentioning: ["2 columns", "3 classes"]) { _ = try DatasetCache.read(target) }

        try writeCustom(to: target) { try $0.createDataset("labels", values: [Int64]([0, 1, 2, 3, 0, 1])) }
        expectInvalidCache(target, mentioning: ["label 3 of image 3", "outside 0..<3"]) {
            _ = try DatasetCache.read(target)
        }

        try writeCustom(to: target) {
            try $0.createDataset("labels", values: [Int8](repeating: 2, count: 18), shape: [6, 3])
        }
        expectInvalidCache(target, mentioning: ["flag 2"]) { _ = try DatasetCache.read(target) }

        try writeCustom(to: target) { _ in }
        expectInvalidCache(target, mentioning: ["no /labels dataset"]) { _ = try DatasetCache.read(target) }

        try writeCustom(to: target, countAttribute: 5) {
            try $0.createDataset("labels", values: [Int64](repeating: 0, count: 6))
        }
        expectInvalidCache(target, mentioning: ["count = 5 but /images has 6 rows"]) {
            _ = try DatasetCache.read(target)
        }

        // The well-formed variant of the same file is accepted.
        try writeCustom(to: target) { try $0.createDataset("labels", values: [Int64]([0, 1, 2, 2, 1, 0])) }
        #expect(try DatasetCache.read(target).labelCounts == [2, 2, 2])
    }

    @Test("Images of a wrong dtype are refused")
    func wrongImages() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let target = url(folder, "images.h5")
        try HDF5File.writeAtomically(to: target, format: DatasetCache.format, version: 1) { file in
            try file.createDataset("images", values: [Float](repeating: 0, count: 8), shape: [2, 1, 2, 2])
        }
        expectInvalidCache(target, mentioning: ["/images holds float32", "uint8"]) { _ = try DatasetCache.read(target) }
    }

    @Test("A file of another format or version is refused, naming what it is")
    func otherFormat() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let target = url(folder, "other.h5")
        try writeCustom(to: target, format: "gradfeat-activations") {
            try $0.createDataset("labels", values: [Int64](repeating: 0, count: 6))
        }
        expectInvalidCache(target, mentioning: ["'gradfeat-activations' file", "not a data-set cache"]) {
            _ = try DatasetCache.read(target)
        }

        try HDF5File.writeAtomically(to: target, format: DatasetCache.format, version: 2) { _ in }
        expectInvalidCache(target, mentioning: ["version 2", "reads version 1"]) { _ = try DatasetCache.read(target) }

        try HDF5File.writeAtomically(to: target) { file in try file.createGroup("something") }
        expectInvalidCache(target, mentioning: ["no 'format' attribute"]) { _ = try DatasetCache.read(target) }
    }

    @Test("A failed write leaves no output file, and an existing one untouched")
    func failedWrite() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        // Labels outside the class list: refused before anything is written.
        var bad = makeSet(count: 4)
        bad.labels = .single([0, 1, 2, 9])
        let target = url(folder, "bad.h5")
        expectInvalidCache(target, mentioning: ["label 9 of image 3", "nothing was written"]) {
            try DatasetCache.write(bad, to: target)
        }
        #expect(!FileManager.default.fileExists(atPath: target.path))

        // A folder that does not exist: the HDF5 write fails.
        let nowhere = url(folder, "no/such/folder/set.h5")
        expectInvalidCache(nowhere, mentioning: ["cannot be written", "does not exist"]) {
            try DatasetCache.write(makeSet(count: 4), to: nowhere)
        }
        #expect(!FileManager.default.fileExists(atPath: nowhere.path))

        // Replacing an existing cache with a bad set keeps the old file as it was.
        let existing = url(folder, "existing.h5")
        let good = makeSet(count: 8)
        try DatasetCache.write(good, to: existing)
        let before = try Data(contentsOf: existing)
        expectInvalidCache(existing, mentioning: ["label 9"]) { try DatasetCache.write(bad, to: existing) }
        #expect(try Data(contentsOf: existing) == before)
        #expect(try DatasetCache.read(existing) == good)

        // A write that fails inside HDF5 (a progress callback cannot fail, so fail the disk: a read-only folder).
        let locked = folder.file("locked")
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: locked)
        defer { _ = try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: locked) }
        if getuid() != 0 { // root writes anyway
            let lockedTarget = URL(fileURLWithPath: locked + "/set.h5")
            expectInvalidCache(lockedTarget, mentioning: ["cannot be written"]) {
                try DatasetCache.write(good, to: lockedTarget)
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: locked).isEmpty)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["existing.h5", "locked"])
    }

    @Test(
        "Fashion-MNIST test split round-trips through a cache",
        .enabled(if: SharedData.fashionMNISTAvailable))
    func fashionMNIST() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let set = try MNIST.load(from: SharedData.fashionMNIST, split: "test", variant: .fashionMNIST)
        let target = url(folder, "fashion-test.h5")
        try DatasetCache.write(set, to: target)
        #expect(try DatasetCache.read(target) == set)
        let reader = try DatasetCacheReader(url: target)
        let indices = [9_999, 0, 5_000, 1_234]
        #expect(try reader.subset(indices) == set.subset(indices))
    }
}
