// Data-set caches (HDF5, docs/FORMATS.md): a valid cache written by DatasetCache.write, structurally mutated
// (shapes, dtypes, attributes), opened with DatasetCacheReader, a few rows read. Input: all choices.
import Datasets
import FuzzSupport

let templates = [
    HDF5Tree.written { url in
        try DatasetCache.write(
            ImageSet(
                images: (0..<4 * 48).map { UInt8(truncatingIfNeeded: $0) }, count: 4, channels: 3, height: 4,
                width: 4, labels: .single([0, 1, 2, 1]), classNames: ["a", "b", "c"], source: "fuzz", split: "train"),
            to: url)
    },
    HDF5Tree.written { url in
        try DatasetCache.write(
            ImageSet(
                images: (0..<3 * 4).map { UInt8(truncatingIfNeeded: $0) }, count: 3, channels: 1, height: 2,
                width: 2, labels: .multi([1, 0, -1, 0, 1, 1]), classNames: ["x", "y"], source: "fuzz", split: "val"),
            to: url)
    },
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    runFuzzInput(start, count) { input in
        try HDF5Tree.fuzz(&input, templates: templates) { url, tree, input in
            let reader = try DatasetCacheReader(url: url)
            defer { reader.close() }
            let n = reader.count
            attempt { try reader.batch(rows: 0..<min(n, 2)) }
            if n > 0 { attempt { try reader.batch(indices: [n - 1, 0, n - 1]) } }
            attempt { try reader.subset([]) }
            if tree.isSmall { attempt { try DatasetCache.read(url) } }
        }
    }
    return 0
}
