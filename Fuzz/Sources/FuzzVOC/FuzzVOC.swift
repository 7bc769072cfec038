// PASCAL VOC 2007 trees: ImageSets/Main split and class lists, Annotations XML, JPEGImages; folder or archive.
// The input is all choices; zero bytes give a valid tree of one image with an annotation.
import Datasets
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    runFuzzInput(start, count) { input in
        let root = input.pick(["VOCdevkit/VOC2007/", "VOC2007/", "", "x/VOC2007/"])
        let split = input.pick(["train", "val", "trainval", "test"])
        let ids = (0..<(input.int(in: 0...4) + 1) % 5).map { _ in input.name(["000001", "000002", "000005", "a b"]) }
        var tree = FuzzTree()
        let separator = input.pick(["\n", "\r\n", " \n"])
        let junk = input.bool() ? input.text(maxCount: 32) : ""
        tree.add(root + "ImageSets/Main/\(split).txt", Array((ids.joined(separator: separator) + junk).utf8))
        // Class lists: every class, or none; each id with a flag, sometimes a bad one, sometimes missing.
        if input.bool() {
            for name in VOC2007.classNames {
                let lines = ids.compactMap { id -> String? in
                    input.rarely(16) ? nil : id + input.pick([" 1", " -1", "  0", " 1", " -1", "\t1", " 2", " x", ""])
                }
                tree.add(root + "ImageSets/Main/\(name)_\(split).txt", Array(lines.joined(separator: "\n").utf8))
            }
        }
        for id in ids {
            switch input.int(in: 0...4) {
            case 3: tree.add(root + "Annotations/\(id).xml", input.data(maxCount: 512))
            case 4: break
            default: tree.add(root + "Annotations/\(id).xml", Array(annotation(&input).utf8))
            }
            if !input.rarely(8) { tree.add(root + "JPEGImages/\(id).jpg", input.imageFile()) }
        }
        let path = tree.write("voc", &input)
        _ = try VOC2007.load(
            from: path, split: split, size: ImageSize(height: input.int(in: 1...8), width: input.int(in: 1...8)),
            mode: input.bool() ? .centerCrop : .stretch,
            labelSource: input.pick([.automatic, .annotations, .imageSets]), threads: input.int(in: 1...2))
    }
    return 0
}

/// An annotation file: objects with a name (usually a VOC class), a difficult flag, person-layout parts, and
/// sometimes a tag left open.
func annotation(_ input: inout FuzzInput) -> String {
    var xml = "<annotation><filename>x.jpg</filename>"
    for _ in 0..<(input.int(in: 0...4) + 1) % 5 {
        var object = "<object>"
        if !input.rarely(8) { object += "<name>\(input.name(VOC2007.classNames + [" dog "]))</name>" }
        if input.bool() { object += "<difficult>\(input.pick(["0", "1", " 1 ", "yes"]))</difficult>" }
        if input.bool() { object += "<part><name>\(input.pick(["hand", "head"]))</name></part>" }
        if input.rarely(8) { object += input.pick(["<part>", "<name>", "</part>", "<object>"]) }
        xml += object + (input.rarely(10) ? "" : "</object>")
    }
    return xml + "</annotation>"
}
