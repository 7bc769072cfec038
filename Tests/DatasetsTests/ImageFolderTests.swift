import Datasets
import Foundation
import Testing

@Suite("Image folders and codecs")
struct ImageFolderTests {
    /// Writes `root/<split>/<class>/NN.{png,jpg}` for three classes, two images each.
    private func makeTree(_ folder: TemporaryFolder, root: String, labelsFile: Bool) throws {
        let classes = ["zebra", "ant", "moth"]
        for split in ["train", "test"] {
            for (c, name) in classes.enumerated() {
                for k in 0..<2 {
                    let pixels = syntheticImage(seed: c * 10 + k)
                    let png = try ImageCodec.encodePNG(pixels, width: 8, height: 8)
                    try folder.write(png, to: "\(root)/\(split)/\(name)/\(k).png")
                }
            }
        }
        if labelsFile { try folder.write(classes.joined(separator: "\n") + "\n", to: "\(root)/labels.txt") }
    }

    @Test("Folder and .tar.gz give the same set; labels.txt sets the class order")
    func folderAndArchive() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try makeTree(folder, root: "tiny", labelsFile: true)
        try runTool("/usr/bin/tar", ["-czf", folder.file("tiny.tar.gz"), "-C", folder.path, "tiny"])

        let fromFolder = try ImageFolder.load(from: folder.file("tiny"), split: "train")
        let fromParent = try ImageFolder.load(from: folder.path, split: "train")
        let fromArchive = try ImageFolder.load(from: folder.file("tiny.tar.gz"), split: "train")
        #expect(fromFolder.classNames == ["zebra", "ant", "moth"])
        #expect(fromFolder.count == 6 && fromFolder.height == 8 && fromFolder.width == 8)
        #expect(fromFolder.labels == .single([0, 0, 1, 1, 2, 2]))
        #expect(fromArchive.images == fromFolder.images && fromArchive.labels == fromFolder.labels)
        #expect(fromParent.images == fromFolder.images)
        // PNG is lossless: pixels come back exactly, in [C, H, W].
        #expect(Array(fromFolder.image(at: 2)) == syntheticImage(seed: 10))
    }

    @Test("Without labels.txt classes are the sorted folder names; resize on request")
    func sortedFoldersAndResize() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try makeTree(folder, root: "tiny", labelsFile: false)
        let set = try ImageFolder.load(from: folder.path, split: "test", size: ImageSize(4))
        #expect(set.classNames == ["ant", "moth", "zebra"])
        #expect(set.height == 4 && set.width == 4 && set.images.count == 6 * 3 * 16)
        let grey = try ImageFolder.load(from: folder.path, split: "test", channels: 1)
        #expect(grey.channels == 1 && grey.images.count == 6 * 64)
    }

    @Test("A JPEG that does not decode is reported with its file name")
    func badJPEG() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let good = try ImageCodec.encodeJPEG(syntheticImage(seed: 1), width: 8, height: 8)
        try folder.write(good, to: "set/train/cat/good.jpg")
        // A JPEG header followed by garbage, and a JPEG cut in half.
        try folder.write(
            [0xff, 0xd8, 0xff, 0xe0] + [UInt8](repeating: 0x42, count: 200), to: "set/train/cat/garbage.jpg")
        do {
            _ = try ImageFolder.load(from: folder.path, split: "train")
            Issue.record("garbage JPEG was accepted")
        } catch {
            guard case .undecodableImage(let path, _, let reason) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(path.hasSuffix("set/train/cat/garbage.jpg"))
            #expect(!reason.isEmpty)
            #expect(error.description.contains("garbage.jpg"))
        }
        try FileManager.default.removeItem(atPath: folder.file("set/train/cat/garbage.jpg"))
        try folder.write(Array(good.prefix(good.count / 2)), to: "set/train/cat/truncated.jpg")
        #expect(throws: DatasetError.self) { try ImageFolder.load(from: folder.path, split: "train") }
        do {
            _ = try ImageFolder.load(from: folder.path, split: "train")
        } catch {
            #expect(error.description.contains("truncated.jpg"))
        }
    }

    @Test("JPEG round trip is close; bilinear resize of a constant image is constant")
    func codecAndResample() throws {
        // A smooth image (no wrap-around edges) survives JPEG with small errors.
        var pixels = [UInt8](repeating: 0, count: 3 * 16 * 16)
        for c in 0..<3 {
            for y in 0..<16 { for x in 0..<16 { pixels[(c * 16 + y) * 16 + x] = UInt8(40 + c * 30 + y * 4 + x * 3) } }
        }
        let jpeg = try ImageCodec.encodeJPEG(pixels, width: 16, height: 16, quality: 95)
        let decoded = try ImageCodec.decode(jpeg)
        #expect(decoded.width == 16 && decoded.height == 16)
        let maxError = zip(pixels, decoded.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(maxError <= 12)

        // A grey JPEG decodes to three equal channels, and RGB to grey.
        let grey = try ImageCodec.encodeJPEG(syntheticImage(seed: 4, channels: 1), width: 8, height: 8, channels: 1)
        let expanded = try ImageCodec.decode(grey, channels: 3)
        #expect(expanded.pixels.count == 3 * 64)
        #expect(Array(expanded.pixels[0..<64]) == Array(expanded.pixels[128..<192]))
        #expect(try ImageCodec.decode(jpeg, channels: 1).pixels.count == 256)

        let constant = ImageSet(
            images: [UInt8](repeating: 77, count: 3 * 5 * 7), count: 1, channels: 3, height: 5,
            width: 7, labels: .single([0]), classNames: ["x"], source: "", split: "")
        let resized = constant.resized(to: ImageSize(height: 9, width: 4))
        #expect(resized.images.allSatisfy { $0 == 77 } && resized.images.count == 3 * 36)
        // A 2x upsampling of [0, 255] keeps the ends and interpolates between them.
        let ramp = ImageSet(
            images: [0, 255], count: 1, channels: 1, height: 1, width: 2, labels: .single([0]),
            classNames: ["x"], source: "", split: "")
        #expect(ramp.resized(to: ImageSize(height: 1, width: 4)).images == [0, 64, 191, 255])
    }
}
