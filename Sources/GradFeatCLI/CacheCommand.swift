import ArgumentParser
import Datasets
import Foundation
import GradFeat

/// `gradfeat cache`: decodes a data set once into a data-set cache (HDF5), or runs a base network's frozen bottom
/// over a data-set cache and stores the activations. docs/FORMATS.md describes both files.
struct CacheCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Write a data-set cache (decoded images + labels) or an activation cache, in HDF5.",
        discussion: """
            Data set:     gradfeat cache --format FORMAT --source PATH --split NAME --output FILE.h5 [--size HxW]
            Activations:  gradfeat cache --activations --model NAME --weights W.h5 [--layer L] --input DATA.h5 \
            --output ACT.h5 [--batch-size 256]

            Sources: imagefolder — the folder or .tar(.gz) holding one folder per split (<split>/<class>/*.jpg|png); \
            cifar10, cifar100 — the official binary release (folder or .tar.gz); svhn — a <split>_32x32.mat file or \
            its folder; mnist, fashion-mnist — the folder of the four IDX files; voc2007 — a VOCdevkit folder or \
            .tar(.gz); coco — the folder holding annotations/instances_<split>.json and <split>/ (or --annotations).
            Output files are written atomically: a failed run leaves no file behind.
            """)

    // MARK: Data-set cache

    @Option(
        help: "Data-set format: a registered data set (\(DataCatalog.names.joined(separator: ", ")), or a plugin's).",
        completion: RegistryCompletion.formats)
    var format: String?

    @Option(help: "The data: folder, archive or file (see below).")
    var source: String?

    @Option(help: "The split to cache (train, test, val, trainval, train2014, …).")
    var split: String?

    @Option(help: "Resize every image to HxW (or N for NxN). VOC and COCO default to 224x224.")
    var size: String?

    @Option(help: "COCO only: the instances_<split>.json file (default: SOURCE/annotations/instances_<split>.json).")
    var annotations: String?

    // MARK: Activation cache

    @Flag(help: "Cache a base network's activations of a data-set cache instead of a data set.")
    var activations = false

    @Option(
        help: "Base network (with --activations): \(ModelZoo.names.joined(separator: ", ")).",
        completion: RegistryCompletion.models)
    var model: String?

    @Option(help: "Weights of the base network (HDF5; without it the network is randomly initialised from --seed).")
    var weights: String?

    @Option(
        help:
            "The first θ2 layer: the cache holds its input (default: the model's first linearized layer, as in train).")
    var layer: String?

    @Option(help: "The data-set cache to run the network on (written by gradfeat cache --format …).")
    var input: String?

    @Option(help: "Images per forward pass.")
    var batchSize = 256

    @Option(help: "Seed of the initialisation of parameters the weights do not set.")
    var seed: UInt64 = 0

    // MARK: Both

    @Option(help: "The HDF5 file to write (replaced atomically if it exists).")
    var output: String

    @Flag(help: "Print no progress.")
    var quiet = false

    func validate() throws {
        if activations {
            for (name, value) in [
                ("--format", format), ("--source", source), ("--size", size),
                ("--annotations", annotations),
            ] where value != nil {
                throw ValidationError("\(name) does not apply with --activations (which reads --input)")
            }
            guard model != nil else { throw ValidationError("--activations needs --model NAME") }
            guard let input else { throw ValidationError("--activations needs --input DATA.h5 (a data-set cache)") }
            guard FileManager.default.fileExists(atPath: input) else {
                throw ValidationError("--input \(input): no such file (write it first with gradfeat cache --format …)")
            }
            if let weights, !FileManager.default.fileExists(atPath: weights) {
                throw ValidationError("--weights \(weights): no such file")
            }
            guard batchSize > 0 else { throw ValidationError("--batch-size must be positive, not \(batchSize)") }
            guard URL(fileURLWithPath: input).standardizedFileURL != URL(fileURLWithPath: output).standardizedFileURL
            else {
                throw ValidationError("--output must differ from --input (\(input))")
            }
        } else {
            for (name, value) in [("--model", model), ("--weights", weights), ("--layer", layer), ("--input", input)]
            where value != nil {
                throw ValidationError("\(name) applies only with --activations")
            }
            guard let format else {
                throw ValidationError(
                    "missing --format (\(DataCatalog.names.joined(separator: "|"))), or pass --activations")
            }
            _ = try GradFeatCLI.plugins.datasets.entry(format)
            guard let source else {
                throw ValidationError("missing --source PATH (the data set's folder, archive or file)")
            }
            guard FileManager.default.fileExists(atPath: source) else {
                throw ValidationError("--source \(source): no such file or folder")
            }
            guard split != nil || (format == "svhn" && source.hasSuffix(".mat")) else {
                throw ValidationError("missing --split NAME (e.g. train or test)")
            }
            if annotations != nil && format != "coco" {
                throw ValidationError("--annotations applies only to --format coco")
            }
            if let size { _ = try Self.parseSize(size) }
        }
    }

    @OptionGroup var process: ProcessOptions

    func run() throws {
        try process.apply()
        let outputURL = URL(fileURLWithPath: output)
        let folder = outputURL.deletingLastPathComponent()
        if !FileManager.default.fileExists(atPath: folder.path) {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
        if activations {
            try cacheActivations(to: outputURL)
        } else {
            try cacheDataset(to: outputURL)
        }
    }

    // MARK: - Data-set cache

    /// `HxW` or `N` as an image size.
    static func parseSize(_ text: String) throws -> ImageSize {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        let numbers = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard (1...2).contains(parts.count), numbers.count == parts.count,
            numbers.allSatisfy({ (1...8192).contains($0) })
        else {
            throw ValidationError("--size '\(text)' is not a size: write HxW (e.g. 64x64) or N, from 1 to 8192")
        }
        return ImageSize(height: numbers[0], width: numbers.last!)
    }

    func cacheDataset(to url: URL) throws {
        guard let format, let source else { throw GradFeatError.invalidConfiguration("missing --format or --source") }
        let size = try self.size.map(Self.parseSize)
        let clock = Date()
        if !quiet { note("reading \(format) \(split ?? "") from \(source)") }
        if format == "mnist", !quiet, (source as NSString).standardizingPath.lowercased().contains("fashion") {
            note(
                "\(source) looks like Fashion-MNIST: storing its class names (pass --format fashion-mnist to be explicit)"
            )
        }
        let plugin = try GradFeatCLI.plugins.datasets.entry(format)
        let request = DatasetRequest(
            split: split ?? plugin.trainSplit, source: source, size: size,
            extras: annotations.map { ["annotations": $0] } ?? [:])
        // Decoded and written a part at a time (for loaders that read in parts): the set's pixels are never all in
        // memory.
        var last: ImageSet?
        var count = 0
        var lastNote = clock
        try DatasetCache.write(to: url) { append in
            try plugin.forEachPart(request, partSize: DatasetCache.partImages) { part in
                let part = size.map { part.resized(to: $0) } ?? part // a no-op when the loader already resized
                try append(part)
                count += part.count
                last = part
                if !quiet, Date().timeIntervalSince(lastNote) >= 5 {
                    lastNote = Date()
                    note(
                        String(
                            format: "decoded and wrote %d images (%.0f img/s)", count,
                            Double(count) / max(Date().timeIntervalSince(clock), 1e-9)))
                }
            }
        }
        let seconds = Date().timeIntervalSince(clock)
        guard let set = last else { return }
        print(
            String(
                format: "%@ %@: %d images of %dx%dx%d, %d classes (%@) → %@, %@, %.1f s",
                format, set.split, count, set.channels, set.height, set.width, set.classCount,
                set.isMultiLabel ? "multi-label" : "single-label", url.path, try Self.fileSize(url), seconds))
    }

    // MARK: - Activation cache

    func cacheActivations(to url: URL) throws {
        guard let model, let input else {
            throw GradFeatError.invalidConfiguration("--activations needs --model and --input")
        }
        let clock = Date()
        // Streamed: a batch of images and of activations in memory at a time, whatever the data set's size.
        let reader = try ExperimentData.openCache(input, option: "--input")
        let (channels, height, width) = (reader.imageShape[0], reader.imageShape[1], reader.imageShape[2])

        // Images smaller than a fixed-size encoder's input are padded with zeros, as `gradfeat train` does.
        let metadata = try GradFeatCLI.plugins.models.entry(model)
        let wanted = metadata.inputShape[1]
        let border = ImageBatches.paddingBorder(from: height, to: wanted)
        if border > 0, !quiet { note("padding \(height)x\(width) images with zeros to \(model)'s \(wanted)x\(wanted)") }
        let data = DatasetCacheImages(reader, scaling: metadata.inputScaling, border: border)
        var network = try ModelZoo.make(
            model, classes: max(1, data.classCount), inputChannels: channels, inputSize: data.sampleShape[1], seed: seed
        )
        if let weights {
            // The head is not part of the cache; one for another number of classes is fine.
            network = try WeightsFile.load(URL(fileURLWithPath: weights), into: network, keepInitial: ["fc."])
        } else if !quiet {
            note("no --weights: \(model) is randomly initialised (seed \(seed))")
        }
        // The default layer is the one `train` defaults to, so that a run into this folder reuses the cache.
        let splitLayer = try layer ?? RunDirectory(containing: url).layout(model: model, record: nil).split
        guard network.layerNames.contains(splitLayer) else {
            throw GradFeatError.unknownLayer(splitLayer, model: model, known: network.layerNames)
        }
        // The producer `train` computes for the same network and images, so that `train` reuses this cache.
        let producer = try ActivationCacheFile.Producer(
            network: network, layer: splitLayer, split: reader.split, images: data)
        // Streamed: one batch of activations in memory at a time, the file complete or absent.
        try ActivationCache.write(
            network: network, splitAt: splitLayer, data: data, producer: producer, to: url, batchSize: batchSize,
            label: "activations \(reader.split)", quiet: quiet)
        let written = try ActivationCacheReader(url)
        print(
            String(
                format: "activations of %@ at %@ for %@: %d × %@ float32, %d classes → %@, %@, %.1f s",
                model, splitLayer, input, written.count,
                written.sampleShape.dimensions.map(String.init)
                    .joined(separator: "x"), data.classCount, url.path, try Self.fileSize(url),
                Date().timeIntervalSince(clock)))
    }

    // MARK: - Helpers

    /// The file's size for people, e.g. "12.3 MB".
    static func fileSize(_ url: URL) throws -> String {
        let bytes = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int ?? 0
        return bytes >= 1_000_000
            ? String(format: "%.1f MB", Double(bytes) / 1e6) : String(format: "%.1f kB", Double(bytes) / 1e3)
    }
}
