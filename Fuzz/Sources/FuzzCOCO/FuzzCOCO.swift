// COCO instances JSON (raw or gzip) with a small folder or archive of images named 1.jpg, 2.png, a/3.jpg, x.jpg.
// Input: 32 choice bytes (images, options), then the JSON file.
import Datasets
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    runFuzzInput(start, count) { input in
        var choices = input.header(32)
        let json = input.rest()
        var images = FuzzTree()
        for name in ["1.jpg", "2.png", "a/3.jpg", "x.jpg"] where !choices.rarely(8) {
            images.add(name, choices.imageFile())
        }
        let folder = images.write("images", &choices)
        let size = ImageSize(height: choices.int(in: 1...8), width: choices.int(in: 1...8))
        let includeUnannotated = !choices.bool()
        let path = Scratch.write(choices.bool() ? Gzip.compress(json, level: 1) : json, to: "instances_train2014.json")
        _ = try COCO.load(
            annotations: path, images: folder, size: size, includeUnannotated: includeUnannotated,
            threads: choices.int(in: 1...2))
    }
    return 0
}
