import Foundation
// Activation caches (HDF5, docs/FORMATS.md): a valid cache written by ActivationCacheFile.save, structurally
// mutated, opened with ActivationCacheReader, a few rows read (and loaded whole when small). Input: all choices.
import FuzzSupport
import GradFeat
import Layers
import Tensor

let producer = ActivationCacheFile.Producer(
    model: "bigan-small", weightsHash: "fnv1a64:0123456789abcdef", layer: "conv5", split: "train",
    source: "4 images 3x32x32 fnv1a64:0", transform: "pad-to-32,0.0,1.0")

let templates = [
    HDF5Tree.written { url in
        let inputs = try Tensor(shape: [4, 2, 2, 2], scalars: (0..<32).map { Float($0) / 8 })
        try ActivationCacheFile.save(
            try InMemoryBatches(inputs: inputs, targets: .classes([0, 1, 2, 0]), classCount: 3), producer: producer,
            to: url)
    },
    HDF5Tree.written { url in
        let inputs = try Tensor(shape: [3, 5], scalars: (0..<15).map { Float($0) - 7 })
        try ActivationCacheFile.save(
            try InMemoryBatches(
                inputs: inputs, targets: .multiLabel(flags: [1, 0, -1, 0, 1, 1], classCount: 2), classCount: 2),
            producer: producer, to: url)
    },
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    runFuzzInput(start, count) { input in
        try HDF5Tree.fuzz(&input, templates: templates) { url, tree, input in
            let expected = input.bool() ? producer : nil
            let reader = try ActivationCacheReader(url, expecting: expected)
            let n = reader.count
            attempt { try reader.batch(rows: 0..<min(n, 2)) }
            if n > 0 { attempt { try reader.batch([n - 1, 0, n - 1]) } }
            if tree.isSmall { attempt { try ActivationCacheFile.load(url, expecting: expected) } }
        }
    }
    return 0
}
