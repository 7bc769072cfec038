import Foundation

/// MNIST and Fashion-MNIST from a folder of the original IDX files
/// (`train-images-idx3-ubyte.gz`, `train-labels-idx1-ubyte.gz`, `t10k-images-idx3-ubyte.gz`,
/// `t10k-labels-idx1-ubyte.gz`; uncompressed names are accepted too).
public enum MNIST {
    /// Which data set (they share the format, not the class names).
    public enum Variant: Sendable, Equatable {
        /// Handwritten digits 0-9.
        case mnist
        /// Zalando article images (Xiao et al., 2017).
        case fashionMNIST

        /// Class names in label order.
        public var classNames: [String] {
            switch self {
            case .mnist:
                return (0..<10).map(String.init)
            case .fashionMNIST:
                return [
                    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                    "Sneaker", "Bag", "Ankle boot",
                ]
            }
        }
    }

    /// Loads `split` (`"train"`: 60,000 images; `"test"`: 10,000) from `directory`.
    public static func load(from directory: String, split: String, variant: Variant = .mnist)
        throws(DatasetError) -> ImageSet
    {
        let stem: String
        switch split {
        case "train": stem = "train"
        case "test", "t10k": stem = "t10k"
        default:
            throw .unsupported(path: directory, reason: "MNIST splits are 'train' and 'test', not '\(split)'")
        }
        let images = try locate(directory, "\(stem)-images-idx3-ubyte")
        let labels = try locate(directory, "\(stem)-labels-idx1-ubyte")
        var set = try IDX.load(images: images, labels: labels, classNames: variant.classNames, split: split)
        set.source = directory
        return set
    }

    private static func locate(_ directory: String, _ stem: String) throws(DatasetError) -> String {
        for candidate in [
            stem + ".gz", stem, stem.replacingOccurrences(of: "-idx", with: ".idx") + ".gz",
            stem.replacingOccurrences(of: "-idx", with: ".idx"),
        ] {
            let path = directory + "/" + candidate
            if FileManager.default.fileExists(atPath: path) { return path }
        }
        throw .fileNotFound(
            path: directory + "/" + stem + ".gz",
            remedy: "Download the IDX files (e.g. `apt-get install dataset-fashion-mnist`, or the "
                + "originals from yann.lecun.com / github.com/zalandoresearch/fashion-mnist).")
    }
}
