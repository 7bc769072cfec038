// Weights files (HDF5, docs/FORMATS.md): a valid file written by WeightsFile.save for a tiny BiGAN encoder,
// structurally mutated, checked against the model and loaded into it. Input: all choices.
import FuzzSupport
import GradFeat

let network = BiganCIFAR.make(classes: 2, widthDivisor: 32, seed: 1)
let templates = [HDF5Tree.written { url in try WeightsFile.save(network, to: url) }]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    runFuzzInput(start, count) { input in
        try HDF5Tree.fuzz(&input, templates: templates) { url, _, input in
            attempt { try WeightsFile.check(url, against: network).description }
            _ = try WeightsFile.load(url, into: network, keepInitial: input.bool() ? ["fc."] : [])
        }
    }
    return 0
}
