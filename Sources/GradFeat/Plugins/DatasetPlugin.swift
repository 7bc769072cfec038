import Datasets
import Foundation

/// Where a data set's files are and what to read from them.
public struct DatasetRequest: Sendable {
    /// The split to read ("train", "test", "val", "train2014", …).
    public var split: String
    /// The data set's own file or folder, when given (`gradfeat cache --source`); else it is looked for in
    /// `dataDirectory`.
    public var source: String?
    /// The data folder holding `cifar10/`, … (nil: `DataCatalog.defaultDataDirectory()`).
    public var dataDirectory: String?
    /// The side images are resized to, for data sets of varied sizes; nil: the plugin's default.
    public var size: ImageSize?
    /// Extra files a format needs (COCO's annotations), by name.
    public var extras: [String: String]

    public init(
        split: String, source: String? = nil, dataDirectory: String? = nil, size: ImageSize? = nil,
        extras: [String: String] = [:]
    ) {
        self.split = split
        self.source = source
        self.dataDirectory = dataDirectory
        self.size = size
        self.extras = extras
    }

    /// `source`, else the first of `candidates` (paths under the data folder) that exists; throws with `fix` naming
    /// what was looked for.
    public func locate(_ candidates: (String) -> [String], dataset: String, fix: String) throws -> String {
        if let source {
            guard FileManager.default.fileExists(atPath: source) else {
                throw GradFeatError.invalidConfiguration("\(dataset) source \(source): no such file or folder; \(fix)")
            }
            return source
        }
        let folder = dataDirectory ?? DataCatalog.defaultDataDirectory()
        let paths = folder.map(candidates) ?? []
        guard let path = paths.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw GradFeatError.invalidConfiguration(
                "\(dataset) not found (looked for \(paths.isEmpty ? "a data folder" : paths.joined(separator: ", "))); \(fix)"
            )
        }
        return path
    }
}

/// A data set by name: a loader of its splits. `gradfeat cache --format NAME` writes it to a data-set cache, and
/// `--dataset NAME` trains on it; any data-set cache `.h5` is a data set by its path.
public struct DatasetPlugin: RegistryEntry {
    public typealias Loader = @Sendable (DatasetRequest) throws -> ImageSet

    public var name: String
    public var summary: String
    /// The splits a run trains and tests on when it names the data set (VOC2007's shared copy tests on "val").
    public var trainSplit: String
    public var testSplit: String
    public var registeredAt: String = ""
    public var load: Loader
    /// Reads a split a part of at most `partSize` images at a time, handing each to `part` in order, so that a set
    /// whose pixels do not fit in memory can be written to a data-set cache (`gradfeat cache --format`, or a run
    /// whose budget the set exceeds); nil: `load` reads it whole.
    public typealias PartLoader =
        @Sendable (
            _ request: DatasetRequest, _ partSize: Int, _ part: (ImageSet) throws -> Void
        ) throws -> Void
    public var loadParts: PartLoader?

    public init(
        name: String, summary: String, trainSplit: String = "train", testSplit: String = "test",
        loadParts: PartLoader? = nil, load: @escaping Loader
    ) {
        self.name = name
        self.summary = summary
        self.trainSplit = trainSplit
        self.testSplit = testSplit
        self.loadParts = loadParts
        self.load = load
    }

    /// A data set whose loader finds encoded images (JPEG, PNG): `load` decodes them whole, `loadParts` a part at
    /// a time.
    public init(
        name: String, summary: String, trainSplit: String = "train", testSplit: String = "test",
        encoded: @escaping @Sendable (DatasetRequest) throws -> EncodedImageSet
    ) {
        self.init(
            name: name, summary: summary, trainSplit: trainSplit, testSplit: testSplit,
            loadParts: { request, size, part in try encoded(request).forEachPart(images: size, part) },
            load: { request in try encoded(request).decoded() })
    }

    /// Hands `request`'s split to `body` in parts of at most `partSize` images (`loadParts`), or whole when the
    /// plugin reads it only whole.
    public func forEachPart(_ request: DatasetRequest, partSize: Int, _ body: (ImageSet) throws -> Void) throws {
        if let loadParts { try loadParts(request, partSize, body) } else { try body(try load(request)) }
    }
}

/// Data sets by name.
public typealias DatasetRegistry = Registry<DatasetPlugin>

/// Where data sets are looked for.
public enum DataCatalog {
    /// The registered data set names.
    public static var names: [String] { Plugins.shared.datasets.names }

    /// The default data folder: `$GRADFEAT_DATA_DIR`, else `../shared/datasets` or `./shared/datasets` when one
    /// exists (the project's development layout).
    public static func defaultDataDirectory() -> String? {
        if let env = ProcessInfo.processInfo.environment["GRADFEAT_DATA_DIR"], !env.isEmpty { return env }
        for candidate in ["../shared/datasets", "shared/datasets"]
        where FileManager.default.fileExists(atPath: candidate) {
            return candidate
        }
        return nil
    }

    /// Loads `split` of the named data set from the data folder (`Plugins.shared.datasets`).
    public static func load(_ name: String, split: String, dataDirectory: String?, size: Int? = nil) throws -> ImageSet
    {
        try Plugins.shared.datasets.entry(name).load(
            DatasetRequest(split: split, dataDirectory: dataDirectory, size: size.map { ImageSize($0) }))
    }
}
