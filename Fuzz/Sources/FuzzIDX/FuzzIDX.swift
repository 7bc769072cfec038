// MNIST IDX files: an image file and a label file (raw or gzip), parsed alone and loaded as a pair.
// Input: 4 choice bytes (gzip images, gzip labels, label-file length as 2 big-endian bytes), the label file, then
// the image file.
import Datasets
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    runFuzzInput(start, count) { input in
        var choices = input.header(4)
        let compressImages = choices.bool()
        let compressLabels = choices.bool()
        let labelBytes = choices.int(in: 0...65_535)
        let labels = (0..<min(labelBytes, input.remaining)).map { _ in input.byte() }
        let images = input.rest()
        attempt { try IDX.parse(images, expectedMagic: IDX.imagesMagic, name: "images") }
        attempt { try IDX.parse(labels, expectedMagic: IDX.labelsMagic, name: "labels") }
        Scratch.write(compressImages ? Gzip.compress(images, level: 1) : images, to: "mnist/train-images-idx3-ubyte")
        Scratch.write(compressLabels ? Gzip.compress(labels, level: 1) : labels, to: "mnist/train-labels-idx1-ubyte")
        _ = try MNIST.load(from: Scratch.path("mnist"), split: "train", variant: .fashionMNIST)
    }
    return 0
}
