import Datasets
import Foundation

/// The data sets GradFeat knows by name, where it looks for them, and what to do when they are missing.
///
/// The data folder is `--data-dir`, else `$GRADFEAT_DATA_DIR`, else `../shared/datasets` or `./shared/datasets`
/// when one exists (the project's development layout).
public enum DataCatalog {
    public static let names = ["fashion-mnist", "mnist", "cifar10", "cifar100", "voc2007"]

    /// The default data folder, if one can be found.
    public static func defaultDataDirectory() -> String? {
        if let env = ProcessInfo.processInfo.environment["GRADFEAT_DATA_DIR"], !env.isEmpty { return env }
        for candidate in ["../shared/datasets", "shared/datasets"] where FileManager.default.fileExists(atPath: candidate) {
            return candidate
        }
        return nil
    }

    /// Loads `split` of the named data set. `dataDirectory` may be the data folder (holding `cifar10/`, …) or the
    /// data set's own folder or archive.
    public static func load(_ name: String, split: String, dataDirectory: String?, size: Int? = nil) throws -> ImageSet {
        let directory = dataDirectory ?? defaultDataDirectory()
        func firstExisting(_ candidates: [String]) -> String? {
            candidates.first { FileManager.default.fileExists(atPath: $0) }
        }
        switch name {
        case "fashion-mnist", "mnist":
            let defaults = name == "fashion-mnist" ? ["/usr/share/datasets/fashion-mnist"] : []
            let folders = (directory.map { [$0 + "/" + name, $0] } ?? []) + defaults
            guard let folder = folders.first(where: { folder in
                FileManager.default.fileExists(atPath: folder + "/train-labels-idx1-ubyte.gz")
                    || FileManager.default.fileExists(atPath: folder + "/train-labels-idx1-ubyte")
            }) else {
                throw GradFeatError.invalidConfiguration(
                    "\(name) IDX files not found in \(folders.joined(separator: ", ")). "
                        + (name == "fashion-mnist" ? "Install them with `apt-get install dataset-fashion-mnist`, or "
                            : "") + "pass --data-dir FOLDER holding train-images-idx3-ubyte.gz and the other three files")
            }
            return try MNIST.load(from: folder, split: split, variant: name == "mnist" ? .mnist : .fashionMNIST)
        case "cifar10", "cifar100":
            let candidates = (directory.map { d in
                [d + "/\(name)/\(name)-jpeg.tar.gz", d + "/\(name)-jpeg.tar.gz",
                 d + "/" + (name == "cifar10" ? "cifar-10-binary.tar.gz" : "cifar-100-binary.tar.gz"),
                 d + "/" + (name == "cifar10" ? "cifar-10-batches-bin" : "cifar-100-binary"), d]
            } ?? [])
            guard let path = firstExisting(candidates) else {
                throw GradFeatError.invalidConfiguration(
                    "\(name) not found (looked for \(candidates.isEmpty ? "a data folder" : candidates.joined(separator: ", "))). "
                        + "Pass --data-dir with the shared copy (../shared/datasets) or the official binary archive "
                        + "from the University of Toronto (cifar-10-binary.tar.gz)")
            }
            if path.hasSuffix("-jpeg.tar.gz") {
                return try ImageFolder.load(from: path, split: split, channels: 3)
            }
            return try CIFARBinary.load(from: path, variant: name == "cifar10" ? .cifar10 : .cifar100, split: split)
        case "voc2007":
            let candidates = directory.map { [$0 + "/voc2007/voc2007-trainval.tar.gz", $0 + "/VOCdevkit", $0] } ?? []
            guard let path = firstExisting(candidates) else {
                throw GradFeatError.invalidConfiguration(
                    "VOC2007 not found; pass --data-dir with a VOCdevkit folder or voc2007-trainval.tar.gz")
            }
            return try VOC2007.load(from: path, split: split, size: ImageSize(height: size ?? 64, width: size ?? 64))
        default:
            throw GradFeatError.invalidConfiguration(
                "unknown data set '\(name)'; choose one of \(names.joined(separator: ", ")) or give a data-set cache (.h5)")
        }
    }
}
