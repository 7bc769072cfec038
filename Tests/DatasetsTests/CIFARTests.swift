import Datasets
import Foundation
import Testing

@Suite("CIFAR")
struct CIFARTests {
    @Test(
        "Shared CIFAR-10 JPEG tarball: 50,000 train / 10,000 test, 5,000 / 1,000 per class",
        .enabled(if: SharedData.available("cifar10/cifar10-jpeg.tar.gz")))
    func cifar10JPEGArchive() throws {
        let archive = SharedData.path("cifar10/cifar10-jpeg.tar.gz")
        let clock = ContinuousClock()
        let start = clock.now
        let sets = try ImageFolder.load(from: archive, splits: ["train", "test"])
        let elapsed = clock.now - start
        let (train, test) = (sets[0], sets[1])
        print("CIFAR-10 JPEG tarball: 60,000 images decoded in \(elapsed)")
        #expect(train.count == 50_000)
        #expect(test.count == 10_000)
        #expect(train.channels == 3 && train.height == 32 && train.width == 32)
        #expect(train.labelCounts == [Int](repeating: 5_000, count: 10))
        #expect(test.labelCounts == [Int](repeating: 1_000, count: 10))
        #expect(train.classNames.first == "airplane" && train.classNames.last == "truck")
        #expect(train.images.count == 50_000 * 3 * 32 * 32)
        // Real pixels, not a silently empty buffer.
        let mean = Double(test.images.reduce(0) { $0 + Int($1) }) / Double(test.images.count)
        #expect(mean > 80 && mean < 180)
        // One split alone gives the same images as the two-split pass.
        let testAlone = try ImageFolder.load(from: archive, split: "test")
        #expect(testAlone.images == test.images && testAlone.labels == test.labels)
    }

    @Test(
        "Shared CIFAR-100 JPEG tarball: 100 fine classes in official order, 500 / 100 per class",
        .enabled(if: SharedData.available("cifar100/cifar100-jpeg.tar.gz")))
    func cifar100JPEGArchive() throws {
        let archive = SharedData.path("cifar100/cifar100-jpeg.tar.gz")
        let sets = try ImageFolder.load(from: archive, splits: ["train", "test"])
        #expect(sets[0].count == 50_000 && sets[1].count == 10_000)
        #expect(sets[0].classNames == CIFARBinary.cifar100FineClassNames)
        #expect(sets[0].labelCounts == [Int](repeating: 500, count: 100))
        #expect(sets[1].labelCounts == [Int](repeating: 100, count: 100))
    }
}

extension CIFARTests {
    @Test(
        "Shared test_batch.bin.xz: 10,000 records, 1,000 per class",
        .enabled(if: SharedData.available("cifar10/test_batch.bin.xz")))
    func cifar10BinaryXZ() throws {
        let set = try CIFARBinary.load(
            files: [SharedData.path("cifar10/test_batch.bin.xz")], variant: .cifar10, split: "test")
        #expect(set.count == 10_000)
        #expect(set.labelCounts == [Int](repeating: 1_000, count: 10))
        #expect(set.classNames == CIFARBinary.cifar10ClassNames)
        #expect(set.images.count == 10_000 * 3_072)
    }

    /// Records with label `i % classes` and pixels derived from the index.
    private func records(_ n: Int, variant: CIFARBinary.Variant) -> [UInt8] {
        var bytes: [UInt8] = []
        for i in 0..<n {
            if variant == .cifar100 { bytes.append(UInt8(i % 20)) }
            bytes.append(UInt8(variant == .cifar100 ? i % 100 : i % 10))
            bytes.append(contentsOf: (0..<3_072).map { UInt8(($0 + i) % 251) })
        }
        return bytes
    }

    @Test("A truncated CIFAR record is reported with file and record index")
    func truncatedRecord() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try folder.write(Array(records(3, variant: .cifar10).dropLast(100)), to: "data_batch_1.bin")
        let file = folder.file("data_batch_1.bin")
        #expect(throws: DatasetError.truncatedRecord(path: file, record: 2, recordBytes: 3_073, availableBytes: 2_973))
        {
            try CIFARBinary.load(files: [file], variant: .cifar10, split: "train")
        }
        do {
            _ = try CIFARBinary.load(files: [file], variant: .cifar10, split: "train")
        } catch {
            #expect(error.description.contains("data_batch_1.bin"))
            #expect(error.description.contains("record 2"))
        }
    }

    @Test("Official binary layout from a folder, a .tar.gz, and gzip files agree")
    func officialLayouts() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        for (i, name) in CIFARBinary.Variant.cifar10.fileNames(split: "train").enumerated() {
            try folder.write(records(4 + i, variant: .cifar10), to: "cifar-10-batches-bin/" + name)
        }
        try folder.write(records(5, variant: .cifar10), to: "cifar-10-batches-bin/test_batch.bin")
        try folder.write("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n", to: "cifar-10-batches-bin/batches.meta.txt")
        try runTool(
            "/usr/bin/tar", ["-czf", folder.file("cifar-10-binary.tar.gz"), "-C", folder.path, "cifar-10-batches-bin"])

        let fromFolder = try CIFARBinary.load(from: folder.path, variant: .cifar10, split: "train")
        let fromArchive = try CIFARBinary.load(
            from: folder.file("cifar-10-binary.tar.gz"), variant: .cifar10, split: "train")
        #expect(fromFolder.count == 4 + 5 + 6 + 7 + 8)
        #expect(fromFolder.images == fromArchive.images)
        #expect(fromFolder.labels == fromArchive.labels)
        #expect(fromArchive.classNames.first == "a")
        #expect(fromFolder.image(at: 1).first == 1) // pixel 0 of record 1 is (0 + 1) % 251
        #expect(fromFolder.label(at: 4) == 0) // second file starts again at label 0

        let test = try CIFARBinary.load(from: folder.file("cifar-10-binary.tar.gz"), variant: .cifar10, split: "test")
        #expect(test.count == 5)

        try folder.write(Gzip.compress(records(5, variant: .cifar10)), to: "test_batch.bin.gz")
        let gz = try CIFARBinary.load(files: [folder.file("test_batch.bin.gz")], variant: .cifar10, split: "test")
        #expect(gz.images == test.images)
    }

    @Test("CIFAR-100 records give fine or coarse labels")
    func cifar100Labels() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try folder.write(records(120, variant: .cifar100), to: "test.bin")
        let fine = try CIFARBinary.load(files: [folder.file("test.bin")], variant: .cifar100, split: "test")
        let coarse = try CIFARBinary.load(
            files: [folder.file("test.bin")], variant: .cifar100, labels: .coarse, split: "test")
        #expect(fine.classNames.count == 100 && coarse.classNames.count == 20)
        #expect(fine.label(at: 105) == 5 && coarse.label(at: 105) == 5)
        #expect(fine.label(at: 99) == 99 && coarse.label(at: 99) == 19)
        #expect(fine.images == coarse.images)
    }
}
