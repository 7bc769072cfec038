import Datasets
import Foundation

extension Registry where Entry == DatasetPlugin {
    /// Every format `gradfeat cache` reads, each found by name in the data folder or read from `--source`.
    func registerBuiltIns() throws {
        for variant in [MNIST.Variant.fashionMNIST, .mnist] {
            let name = variant == .mnist ? "mnist" : "fashion-mnist"
            try register(
                DatasetPlugin(name: name, summary: "\(name == "mnist" ? "MNIST" : "Fashion-MNIST") (IDX files)") { r in
                    func hasIDX(_ folder: String) -> Bool {
                        [
                            "train-labels-idx1-ubyte.gz", "train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte.gz",
                            "t10k-labels-idx1-ubyte",
                        ].contains { FileManager.default.fileExists(atPath: folder + "/" + $0) }
                    }
                    let folders =
                        r.source.map { [$0] }
                        ?? ((r.dataDirectory ?? DataCatalog.defaultDataDirectory()).map { [$0 + "/" + name, $0] } ?? [])
                        + (variant == .fashionMNIST ? ["/usr/share/datasets/fashion-mnist"] : [])
                    guard let folder = folders.first(where: hasIDX) else {
                        throw GradFeatError.invalidConfiguration(
                            "\(name) IDX files not found in \(folders.isEmpty ? "any data folder" : folders.joined(separator: ", ")); "
                                + (name == "fashion-mnist"
                                    ? "install them with `apt-get install dataset-fashion-mnist`, or " : "")
                                + "pass --data-dir FOLDER holding train-images-idx3-ubyte.gz and the other three files")
                    }
                    // The IDX layout is shared; a Fashion-MNIST folder read as "mnist" still gets its own class names.
                    let looksFashion = (folder as NSString).standardizingPath.lowercased().contains("fashion")
                    return try MNIST.load(
                        from: folder, split: r.split,
                        variant: variant == .fashionMNIST || looksFashion ? .fashionMNIST : .mnist)
                })
        }
        for variant in [CIFARBinary.Variant.cifar10, .cifar100] {
            let name = variant == .cifar10 ? "cifar10" : "cifar100"
            let archive = name == "cifar10" ? "cifar-10-binary.tar.gz" : "cifar-100-binary.tar.gz"
            let folder = name == "cifar10" ? "cifar-10-batches-bin" : "cifar-100-binary"
            @Sendable func locate(_ r: DatasetRequest) throws -> String {
                try r.locate(
                    { d in
                        [
                            d + "/\(name)/\(name)-jpeg.tar.gz", d + "/\(name)-jpeg.tar.gz", d + "/" + archive,
                            d + "/" + folder, d,
                        ]
                    }, dataset: name,
                    fix: "pass --data-dir with the shared copy or the official binary archive (\(archive))")
            }
            @Sendable func jpegs(_ path: String, _ r: DatasetRequest) throws -> EncodedImageSet? {
                guard path.hasSuffix("-jpeg.tar.gz") else { return nil }
                return try ImageFolder.encoded(from: path, splits: [r.split], channels: 3)[0]
            }
            try register(
                DatasetPlugin(
                    name: name, summary: "CIFAR-\(name.dropFirst(5)) (binary release or JPEG archive)",
                    loadParts: { r, size, part in
                        // The JPEG archive is decoded a part at a time; the binary records (3 KiB an image) whole.
                        let path = try locate(r)
                        if let encoded = try jpegs(path, r) {
                            try encoded.forEachPart(images: size, part)
                        } else {
                            try part(try Self.cifarBinary(path, variant: variant, split: r.split))
                        }
                    }
                ) { r in
                    let path = try locate(r)
                    return try jpegs(path, r)?.decoded() ?? Self.cifarBinary(path, variant: variant, split: r.split)
                })
        }
        try register(
            DatasetPlugin(name: "svhn", summary: "SVHN (<split>_32x32.mat)") { r in
                let path = try r.locate(
                    { [$0 + "/svhn", $0] }, dataset: "svhn", fix: "pass --source with the .mat file or its folder")
                if !Self.isDirectory(path) { return try SVHN.load(path: path, split: r.split) }
                let candidates = ["\(r.split)_32x32.mat", "\(r.split)_32x32.mat.gz"].map { path + "/" + $0 }
                guard let file = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
                    throw GradFeatError.invalidConfiguration(
                        "svhn source \(path): no \(r.split)_32x32.mat in it (pass the .mat file itself)")
                }
                return try SVHN.load(path: file, split: r.split)
            })
        try register(
            DatasetPlugin(
                name: "voc2007", summary: "PASCAL VOC 2007 (multi-label; the shared copy tests on val)",
                testSplit: "val",
                encoded: { r in
                    let path = try r.locate(
                        { [$0 + "/voc2007/voc2007-trainval.tar.gz", $0 + "/VOCdevkit", $0] }, dataset: "voc2007",
                        fix: "pass --data-dir with a VOCdevkit folder or voc2007-trainval.tar.gz")
                    return try VOC2007.encoded(from: path, split: r.split, size: r.size ?? ImageSize(64))
                }))
        try register(
            DatasetPlugin(
                name: "coco", summary: "COCO 2014 (multi-label, instances_<split>.json)",
                trainSplit: "train2014", testSplit: "val2014",
                encoded: { r in
                    let source = try r.locate(
                        { [$0 + "/coco"] }, dataset: "coco",
                        fix: "pass --source with the folder holding annotations/ and the image folders")
                    let annotations = r.extras["annotations"] ?? source + "/annotations/instances_\(r.split).json"
                    guard FileManager.default.fileExists(atPath: annotations) else {
                        throw GradFeatError.invalidConfiguration(
                            "\(annotations): no such file (pass --annotations instances_<split>.json)")
                    }
                    let images =
                        [
                            source + "/" + r.split, source + "/" + r.split + ".tar", source + "/" + r.split + ".tar.gz",
                            source + "/images/" + r.split,
                        ].first { FileManager.default.fileExists(atPath: $0) } ?? source
                    return try COCO.encoded(
                        annotations: annotations, images: images, split: r.split, size: r.size ?? ImageSize(224))
                }))
        try register(
            DatasetPlugin(
                name: "imagefolder", summary: "a folder or .tar(.gz) of <split>/<class>/*.jpg|png",
                encoded: { r in
                    let path = try r.locate(
                        { _ in [] }, dataset: "imagefolder", fix: "pass --source with the folder or archive")
                    return try ImageFolder.encoded(from: path, splits: [r.split], size: r.size)[0]
                }))
    }

    /// CIFAR's binary release at `path`: the archive, its folder, or a folder of compressed record files
    /// (test_batch.bin.xz, …), read file by file.
    static func cifarBinary(_ path: String, variant: CIFARBinary.Variant, split: String) throws -> ImageSet {
        if isDirectory(path) {
            let names = variant.fileNames(split: split)
            for suffix in [".gz", ".xz"] {
                let files = names.map { path + "/" + $0 + suffix }
                if files.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) {
                    return try CIFARBinary.load(files: files, variant: variant, split: split)
                }
            }
        }
        return try CIFARBinary.load(from: path, variant: variant, split: split)
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
