// Image-folder trees (<prefix>/<split>/<class>/<image>, class lists, symbolic links), as a folder or a tar archive.
// The input is all choices; zero bytes give a valid tree of one grey 1x1 JPEG.
import Datasets
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    runFuzzInput(start, count) { input in
        var tree = FuzzTree()
        let prefix = input.pick(["", "cifar10/", "a/b/"])
        for _ in 0..<input.int(in: 1...8) {
            var path = input.rarely(6) ? input.name(["cifar10", "x"]) + "/" : prefix
            path += input.name(["train", "test", "val"]) + "/"
            path += input.name(["cat", "dog", "bird", "0", "1"]) + "/"
            if input.rarely(6) { path += input.name(["deeper"]) + "/" }
            path += input.name(["a", "b", "c", "img"]) + "."
            path += input.pick(["jpg", "png", "jpeg", "JPG", "PNG", "txt", "jpg.txt"])
            tree.add(path, input.imageFile())
        }
        if input.bool() {
            let lines = (0..<input.int(in: 0...4)).map { _ in input.name(["cat", "dog", "bird", "0", " cat ", ""]) }
            let text = lines.joined(separator: input.pick(["\n", "\r\n"]))
            tree.add(prefix + input.pick(ImageFolder.classListNames), Array(text.utf8))
        }
        if input.rarely(8) {
            tree.links.append((prefix + "train/loop/self", prefix + input.pick(["train", "train/loop", ""])))
        }
        let path = tree.write("tree", &input)
        let size = input.bool() ? nil : ImageSize(height: input.int(in: 1...8), width: input.int(in: 1...8))
        _ = try ImageFolder.load(
            from: path, splits: input.bool() ? ["train", "test"] : ["train"], channels: input.bool() ? 3 : 1,
            size: size, mode: input.bool() ? .centerCrop : .stretch,
            classNames: input.rarely(4) ? ["cat", "dog"] : nil,
            threads: input.int(in: 1...2))
    }
    return 0
}
