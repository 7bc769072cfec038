// Training checkpoints (HDF5, docs/FORMATS.md): a valid file written by CheckpointFile.save, structurally mutated
// (including its JSON config and history attributes), then loaded. Input: all choices.
import FuzzSupport
import GradFeat
import Tensor

let templates = [
    HDF5Tree.written { url in
        let weight = try Tensor(shape: [3, 4], scalars: (0..<12).map { Float($0) / 4 })
        let bias = try Tensor(shape: [3], scalars: [0.5, -1, 2])
        let state = TrainingState(
            iteration: 70, parameters: [weight, bias], parameterNames: ["fc.weight", "fc.bias"],
            optimizerState: [weight, bias], optimizerStep: 70, randomState: [1, UInt64.max, 3, 1 << 63],
            configuration: .paper(iterations: 100, seed: 4),
            history: [
                EvaluationRecord(
                    iteration: 50, trainLoss: 0.5, testLoss: 0.6, testMetric: 0.7, learningRate: 1e-3, seconds: 1.5)
            ])
        try CheckpointFile.save(state, extractor: "gradfeat", to: url)
    }
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    runFuzzInput(start, count) { input in
        try HDF5Tree.fuzz(&input, templates: templates) { url, _, _ in
            let (state, _) = try CheckpointFile.load(url)
            _ = state.headClassCount
        }
    }
    return 0
}
