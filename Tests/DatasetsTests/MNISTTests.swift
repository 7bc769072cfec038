import Datasets
import Foundation
import Testing

@Suite("MNIST / IDX")
struct MNISTTests {
    @Test(
        "Fashion-MNIST IDX gives 60,000 / 10,000 images of 28x28",
        .enabled(if: SharedData.fashionMNISTAvailable))
    func fashionMNIST() throws {
        let train = try MNIST.load(from: SharedData.fashionMNIST, split: "train", variant: .fashionMNIST)
        let test = try MNIST.load(from: SharedData.fashionMNIST, split: "test", variant: .fashionMNIST)
        #expect(train.count == 60_000 && test.count == 10_000)
        #expect(train.channels == 1 && train.height == 28 && train.width == 28)
        #expect(train.labelCounts == [Int](repeating: 6_000, count: 10))
        #expect(test.labelCounts == [Int](repeating: 1_000, count: 10))
        #expect(train.classNames[9] == "Ankle boot")
        #expect(train.images.contains { $0 > 0 })
    }

    private func idx(magic: UInt32, dimensions: [UInt32], data: [UInt8]) -> [UInt8] {
        func bigEndian(_ v: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: v >> $0) } }
        return bigEndian(magic) + dimensions.flatMap(bigEndian) + data
    }

    @Test("An IDX file with a wrong magic number is rejected, naming the file")
    func wrongMagic() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        // Images and labels swapped: the image file carries the label magic.
        try folder.write(idx(magic: 0x801, dimensions: [2], data: [1, 2]), to: "images.idx")
        try folder.write(idx(magic: 0x801, dimensions: [2], data: [1, 2]), to: "labels.idx")
        let images = folder.file("images.idx")
        let expected = DatasetError.badMagic(path: images, expected: 0x803, found: 0x801)
        #expect(throws: expected) {
            try IDX.load(images: images, labels: folder.file("labels.idx"), split: "train")
        }
        #expect(expected.description.contains("images.idx"))
        #expect(expected.description.contains("0x00000801"))
    }

    @Test("Raw and gzip IDX files load the same; short data is reported")
    func rawAndGzip() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let pixels = (0..<(3 * 4 * 5)).map { UInt8($0) }
        try folder.write(idx(magic: 0x803, dimensions: [3, 4, 5], data: pixels), to: "i")
        try folder.write(Gzip.compress(idx(magic: 0x801, dimensions: [3], data: [7, 0, 3])), to: "l.gz")
        let set = try IDX.load(images: folder.file("i"), labels: folder.file("l.gz"), split: "test")
        #expect(set.count == 3 && set.height == 4 && set.width == 5 && set.channels == 1)
        #expect(set.images == pixels)
        #expect(set.labels == .single([7, 0, 3]))

        try folder.write(idx(magic: 0x803, dimensions: [3, 4, 5], data: Array(pixels.dropLast(25))), to: "short")
        #expect(
            throws: DatasetError.truncatedRecord(
                path: folder.file("short"), record: 1, recordBytes: 20, availableBytes: 15)
        ) {
            try IDX.load(images: folder.file("short"), labels: folder.file("l.gz"), split: "test")
        }
    }
}
