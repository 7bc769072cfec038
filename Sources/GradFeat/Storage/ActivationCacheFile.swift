import Foundation
import HDF5
import Layers
import Tensor

/// Cached bottom activations `z0 = f_θ1(x)` in HDF5: `/activations` float32 [N, C, H, W], `/labels` int64 [N]
/// (single-label) or int8 [N, K] (multi-label: 1 / 0 / −1), and what produced them — attributes `format` =
/// "gradfeat-activations", `version` = 1, `model`, `weights_hash`, `layer` (the first θ2 layer: the cache holds its
/// input), `split`, `source` (the data set), `transform`, `class_count`.
///
/// A reader names what it expects; a cache made by other weights, at another layer, of another split or with
/// another transform is refused with the field that differs.
public enum ActivationCacheFile {
    public static let format = "gradfeat-activations"
    public static let version = 1

    /// What produced a cache.
    public struct Producer: Sendable, Equatable, Codable {
        public var model: String
        public var weightsHash: String
        public var layer: String
        public var split: String
        public var source: String
        public var transform: String

        public init(model: String, weightsHash: String, layer: String, split: String, source: String, transform: String)
        {
            self.model = model
            self.weightsHash = weightsHash
            self.layer = layer
            self.split = split
            self.source = source
            self.transform = transform
        }

        /// The producer of `network`'s activations at `layer`: the hash covers the bottom θ1 only, the weights the
        /// cache depends on.
        public init(network: some BaseNetwork, layer: String, split: String, source: String, transform: String) throws {
            self.init(
                model: network.modelName, weightsHash: try Self.weightsHash(of: network, below: layer), layer: layer,
                split: split, source: source, transform: transform)
        }

        /// The producer of `network`'s activations at `layer` of `images` (split `split`): the one description that
        /// `gradfeat train`, `finetune`, `demo` and `cache --activations` all write, so that a cache made by one is
        /// reused by the others. `source` names the images by content (`ImageBatches.contentHash`, after any padding),
        /// not by where they were read from; `transform` is the input scaling,
        /// `pad-to-<network input side>,<mean>,<std>`.
        public init(network: some BaseNetwork, layer: String, split: String, images: some ImageSource) throws {
            try self.init(
                network: network, layer: layer, split: split, imageCount: images.count,
                imageShape: images.imageShape, contentHash: try images.contentHash(), scaling: images.scaling)
        }

        /// The same description from its parts.
        public init(
            network: some BaseNetwork, layer: String, split: String, imageCount: Int, imageShape: Shape,
            contentHash: String, scaling: InputScaling
        ) throws {
            try self.init(
                network: network, layer: layer, split: split,
                source: "\(imageCount) images \(imageShape.dimensions.map(String.init).joined(separator: "x")) "
                    + contentHash,
                transform: "pad-to-\(network.inputShape[1]),\(scaling.mean),\(scaling.std)")
        }

        /// The hash of `network`'s bottom θ1 below `layer`: what `weightsHash` holds for its activations.
        public static func weightsHash(of network: some BaseNetwork, below layer: String) throws -> String {
            contentHash(try network.bottom(splitAt: layer).stateDict.map(\.value))
        }

        var fields: [(String, String)] {
            [
                ("model", model), ("weights_hash", weightsHash), ("layer", layer), ("split", split), ("source", source),
                ("transform", transform),
            ]
        }
    }

    /// Writes `data` as a cache (in memory already: tests, small sets); `write(to:producer:…)` streams one.
    public static func save(_ data: InMemoryBatches, producer: Producer, to url: URL) throws {
        try write(
            to: url, producer: producer, sampleShape: data.sampleShape, targets: data.targets,
            classCount: data.classCount
        ) { writeRows in
            try writeRows(0, data.inputs.scalars)
        }
    }

    /// Writes a cache of `targets.count` samples of `sampleShape` a block of rows at a time: `body` receives a
    /// function that stores rows from a row index on, and must store every row once. The activations are one
    /// contiguous float32 dataset, so that `ActivationCacheReader` reads shuffled rows straight from the file; the
    /// file appears under its name only when complete (atomically), and a full disk is refused before the first row
    /// when the free space is known to be short.
    public static func write(
        to url: URL, producer: Producer, sampleShape: Shape, targets: Targets, classCount: Int,
        rows body: (_ writeRows: (_ start: Int, _ values: [Float]) throws -> Void) throws -> Void
    ) throws {
        let count = targets.count
        let bytes = count * sampleShape.count * MemoryLayout<Float>.size
        try requireFreeSpace(bytes, for: url)
        do {
            try HDF5File.writeAtomically(to: url, format: format, version: version) { file in
                for (key, value) in producer.fields { try file.setAttribute(key, value) }
                try file.setAttribute("class_count", classCount)
                switch targets {
                case let .classes(labels):
                    try file.createDataset("labels", values: labels.map { Int64($0) })
                case let .multiLabel(flags, k):
                    try file.createDataset("labels", values: flags, shape: [count, k])
                case let .values(tensor):
                    try file.createDataset("targets", values: tensor.scalars, shape: tensor.shape.dimensions)
                }
                let activations = try file.createDataset(
                    "activations", elementType: .float32, shape: [count] + sampleShape.dimensions)
                try body { start, values in try activations.write(rows: start, values) }
            }
        } catch let error as HDF5Error {
            throw GradFeatError.damagedFile(
                path: url.path,
                problem: "writing the activation cache (\(MemoryBudget.format(bytes))) failed: \(error)",
                fix:
                    "free space on its disk, check that its folder exists and is writable, or pass another --output; nothing was left under its name"
            )
        }
    }

    /// Throws, naming the file and both sizes, when the disk that will hold `url` has less than `bytes` free.
    static func requireFreeSpace(_ bytes: Int, for url: URL) throws {
        let folder = url.deletingLastPathComponent().path
        guard let attributes = try? FileManager.default.attributesOfFileSystem(forPath: folder),
            let free = (attributes[.systemFreeSize] as? NSNumber)?.intValue
        else { return }
        // Headroom for HDF5's metadata and the labels.
        guard free >= bytes + (1 << 20) else {
            throw GradFeatError.damagedFile(
                path: url.path,
                problem:
                    "the activation cache needs \(MemoryBudget.format(bytes)) but its disk has \(MemoryBudget.format(free)) free",
                fix: "free space there, or pass another --output on a larger disk")
        }
    }

    /// Opens a cache, checks its format and producer against `expected` (nil: accept any) and reads its labels.
    static func open(_ url: URL, expecting expected: Producer?) throws
        -> (file: HDF5File, producer: Producer, targets: Targets, classCount: Int)
    {
        let file = try HDF5File(url: url, mode: .readOnly)
        try file.requireFormat(format, version: version)
        let producer = Producer(
            model: try file.attribute("model"), weightsHash: try file.attribute("weights_hash"),
            layer: try file.attribute("layer"), split: try file.attribute("split"),
            source: try file.attribute("source"),
            transform: try file.attribute("transform"))
        if let expected {
            for ((key, want), (_, have)) in zip(expected.fields, producer.fields) where want != have {
                throw GradFeatError.invalidConfiguration(
                    "activation cache \(url.path) was made with \(key) = '\(have)', but this run uses '\(want)'. "
                        + "Delete it (or pass another --output) to rebuild it")
            }
        }
        let labels = try file.dataset(named: "labels")
        let targets: Targets =
            labels.shape.count == 2
            ? .multiLabel(flags: try labels.read(), classCount: labels.shape[1])
            : .classes((try labels.read(as: Int64.self)).map { Int($0) })
        return (file, producer, targets, try file.attribute("class_count"))
    }

    /// Reads a cache into memory after checking its producer against `expected` (nil: accept any); use
    /// `ActivationCacheReader` to stream one that does not fit.
    public static func load(_ url: URL, expecting expected: Producer? = nil) throws -> (InMemoryBatches, Producer) {
        let reader = try ActivationCacheReader(url, expecting: expected)
        return (try reader.loadedIntoMemory(), reader.producer)
    }

    /// Throws naming the file and row when `values` (rows of `rowLength`; `fileRow` maps a position among them to
    /// the file's row) hold NaN or infinity: training on them would diverge with advice about the learning rate,
    /// when the file is what is wrong.
    static func requireFinite(_ values: [Float], rowLength: Int, in url: URL, fileRow: (Int) -> Int) throws {
        guard let bad = values.firstIndex(where: { !$0.isFinite }) else { return }
        throw GradFeatError.invalidConfiguration(
            "activation cache \(url.path): row \(fileRow(bad / max(1, rowLength))) holds \(values[bad]); the file is "
                + "damaged or the base network produced it (check its weights); it is rebuilt when you delete it or "
                + "pass another --output")
    }
}
