import Datasets
import Layers
import Tensor

extension ImageBatches {
    /// View `view` of `crops` of every image: a `side`×`side` crop at `TestCrops.placement`, mirrored where the view
    /// says. Images smaller than `side` are refused by the caller (`ExperimentData`).
    public func cropped(_ crops: TestCrops, view: Int, side: Int, seed: UInt64) -> ImageBatches {
        cropped(crops, view: view, side: side, seed: seed, positions: nil)
    }

    /// The same crops for images that sit at `positions` of the set the crops are drawn for (nil: `0..<count`), so
    /// that a batch read from a file is cropped as the whole set in memory would be.
    func cropped(_ crops: TestCrops, view: Int, side: Int, seed: UInt64, positions: [Int]?) -> ImageBatches {
        let (channels, height, width) = (imageShape[0], imageShape[1], imageShape[2])
        let (inputSize, outputSize) = (channels * height * width, channels * side * side)
        var bytes = [UInt8](repeating: 0, count: count * outputSize)
        pixels.withUnsafeBufferPointer { source in
            bytes.withUnsafeMutableBufferPointer { target in
                guard let source = source.baseAddress, let target = target.baseAddress else { return }
                for image in 0..<count {
                    let place = crops.placement(
                        view: view, image: positions?[image] ?? image, height: height, width: width, crop: side,
                        seed: seed)
                    let output = target + image * outputSize
                    ImageTransforms.crop(
                        source + image * inputSize, channels: channels, height: height, width: width, top: place.top,
                        left: place.left, into: output, size: ImageSize(height: side, width: side))
                    if place.mirrored {
                        ImageTransforms.flipHorizontally(output, channels: channels, height: side, width: side)
                    }
                }
            }
        }
        return try! ImageBatches( // sizes computed above
            pixels: bytes, imageShape: [channels, side, side], targets: targets, classCount: classCount,
            scaling: scaling)
    }
}
