import Datasets
import Foundation
import Testing

@Suite("PASCAL VOC 2007")
struct VOCTests {
    @Test(
        "Shared VOC2007 train: 2,500 images x 20 classes with the ImageSets flag counts",
        .enabled(if: SharedData.available("voc2007/voc2007-trainval.tar.gz")))
    func sharedTrain() throws {
        let archive = SharedData.path("voc2007/voc2007-trainval.tar.gz")
        let set = try VOC2007.load(from: archive, split: "train", size: ImageSize(64))
        #expect(set.count == 2_500)
        #expect(set.classNames.count == 20 && set.isMultiLabel)
        #expect(set.images.count == 2_500 * 3 * 64 * 64)

        // Count the flags independently: extract the lists with tar and parse them here.
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try runTool("/usr/bin/tar", ["-xzf", archive, "-C", folder.path, "--wildcards", "*ImageSets/Main/*train.txt"])
        let main = folder.file("VOCdevkit/VOC2007/ImageSets/Main/")
        let ids = try String(contentsOfFile: main + "train.txt", encoding: .utf8).split(separator: "\n")
        #expect(ids.count == 2_500)
        let counts = set.flagCounts
        for (c, name) in VOC2007.classNames.enumerated() {
            let text = try String(contentsOfFile: main + "\(name)_train.txt", encoding: .utf8)
            var expected = ImageSet.FlagCounts()
            for line in text.split(separator: "\n") {
                switch line.split(separator: " ", omittingEmptySubsequences: true).last {
                case "1": expected.present += 1
                case "-1": expected.absent += 1
                case "0": expected.difficult += 1
                default: Issue.record("unexpected line \(line)")
                }
            }
            #expect(counts[c] == expected, "class \(name)")
        }
        // The first listed image keeps its row: compare with its own class-list flags.
        #expect(set.flags(at: 0).count == 20)
    }

    /// A tiny devkit with three images; `annotations` adds XML files.
    private func makeDevkit(_ folder: TemporaryFolder, ids: [String], images: [String], annotations: Bool) throws {
        let root = "VOCdevkit/VOC2007/"
        try folder.write(ids.joined(separator: "\n") + "\n", to: root + "ImageSets/Main/train.txt")
        for (c, name) in VOC2007.classNames.enumerated() {
            // Class c is present in image c % 3, difficult in (c + 1) % 3, absent in the other.
            let lines = ids.enumerated().map { i, id in
                "\(id) \(i == c % 3 ? " 1" : (i == (c + 1) % 3 ? " 0" : "-1"))"
            }
            try folder.write(lines.joined(separator: "\n") + "\n", to: root + "ImageSets/Main/\(name)_train.txt")
        }
        for (i, id) in images.enumerated() {
            let jpeg = try ImageCodec.encodeJPEG(syntheticImage(seed: i, height: 12, width: 20), width: 20, height: 12)
            try folder.write(jpeg, to: root + "JPEGImages/\(id).jpg")
        }
        if annotations {
            for (i, id) in ids.enumerated() {
                var xml = "<annotation><filename>\(id).jpg</filename>"
                for (c, name) in VOC2007.classNames.enumerated() {
                    if i == c % 3 {
                        xml += "<object><name>\(name)</name><difficult>0</difficult></object>"
                        xml += "<object><name>\(name)</name><difficult>1</difficult></object>"
                    } else if i == (c + 1) % 3 {
                        xml +=
                            "<object><name>\(name)</name><part><name>head</name></part><difficult>1</difficult></object>"
                    }
                }
                try folder.write(xml + "</annotation>", to: root + "Annotations/\(id).xml")
            }
        }
    }

    @Test("An annotation with attributes, comments, CDATA and entities parses as XML; broken XML names its line")
    func annotationIsParsedAsXML() throws {
        let xml = """
            <?xml version="1.0" encoding="utf-8"?>
            <annotation verified="yes">
              <!-- <object><name>cat</name></object> is a comment, not an object -->
              <filename>000001.jpg</filename>
              <object id="1">
                <name>d&#111;g</name>
                <pose>Left</pose>
                <difficult> 1 </difficult>
              </object>
              <object id='2'><name><![CDATA[person]]></name>
                <part><name>hand</name></part><difficult>0</difficult></object>
              <object><name>tv&#x6d;onitor</name></object>
              <owner><name>Tom &amp; Jerry</name></owner>
            </annotation>
            """
        let objects = try VOC2007.parseAnnotation(xml, name: "a.xml")
        #expect(objects.map(\.name) == ["dog", "person", "tvmonitor"])
        #expect(objects.map(\.difficult) == [true, false, false])
        do {
            _ = try VOC2007.parseAnnotation("<annotation>\n<object><name>dog</object>\n</annotation>", name: "b.xml")
            Issue.record("broken XML was accepted")
        } catch {
            #expect("\(error)".contains("b.xml") && "\(error)".contains("line"), "\(error)")
        }
        #expect(throws: DatasetError.self) {
            try VOC2007.parseAnnotation("<annotation><object><pose>x</pose></object></annotation>", name: "c.xml")
        }
        #expect(throws: DatasetError.self) { try VOC2007.parseAnnotation("<annotation><object>", name: "d.xml") }
    }

    @Test("ImageSets flags and XML annotations give the same labels")
    func generatedDevkit() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let ids = ["000005", "000007", "000009"]
        try makeDevkit(folder, ids: ids, images: ids, annotations: true)
        let fromXML = try VOC2007.load(from: folder.path, split: "train", size: ImageSize(8), labelSource: .annotations)
        let fromLists = try VOC2007.load(
            from: folder.file("VOCdevkit"), split: "train", size: ImageSize(8), labelSource: .imageSets)
        #expect(fromXML.labels == fromLists.labels)
        #expect(fromXML.images == fromLists.images)
        #expect(Array(fromLists.flags(at: 0).prefix(4)) == [1, 0, -1, 1])
        #expect(fromLists.flagCounts[0] == ImageSet.FlagCounts(present: 1, absent: 1, difficult: 1))
    }

    @Test("A list naming a missing image is reported with the id and the file")
    func missingImage() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try makeDevkit(folder, ids: ["000005", "000007", "000009"], images: ["000005", "000009"], annotations: false)
        let expectedFile = folder.file("VOCdevkit/VOC2007/JPEGImages/000007.jpg")
        #expect(
            throws: DatasetError.missingImage(
                list: folder.file("VOCdevkit/VOC2007/ImageSets/Main/train.txt"), id: "000007",
                expectedPath: expectedFile)
        ) {
            try VOC2007.load(from: folder.path, split: "train", size: ImageSize(8))
        }
    }
}
