import Foundation
import GradFeat

/// A run folder's base network and its training and test activations: the run's caches when both are there, else
/// both computed again from the data set the record names (and saved, as `train` does). The caches are streamed
/// from their files, a batch at a time. `eval --run` and
/// `attribute` read runs through it.
func runActivations(
    run: RunDirectory, record: RunRecord, layout: RunDirectory.Layout, quiet: Bool
) throws -> (base: Network, train: any BatchSource, test: any BatchSource) {
    let (trainURL, testURL) = (run.activationCache("train"), run.activationCache("test"))
    if [testURL, trainURL].allSatisfy({ FileManager.default.fileExists(atPath: $0.path) }) {
        let classes = try ActivationCacheReader(testURL).classCount
        let base = try run.baseNetwork(record, classes: classes)
        let fix = "train again into this folder to rebuild it"
        return (base, try run.verifiedActivations(trainURL, network: base, layer: layout.split, fix: fix),
                try run.verifiedActivations(testURL, network: base, layer: layout.split, fix: fix))
    }
    if !quiet { note("\(run.url.path) lacks its activation caches: computing them from \(record.dataset) again") }
    // The data as the run loaded them: the record's experiment (older records: their data fields).
    let dataSpec = record.experiment?.data ?? DataSpec(
        dataset: record.dataset, dataDirectory: record.dataDirectory, imageSize: record.imageSize ?? 64,
        trainSize: record.trainSize ?? 0, testSize: record.testSize ?? 0)
    let loaded = try ExperimentData.load(
        dataSpec, model: try GradFeatCLI.plugins.models.entry(record.model), seed: record.seed,
        plugins: GradFeatCLI.plugins, quiet: quiet)
    let base = try run.baseNetwork(record, classes: loaded.train.classCount)
    // Within the budget the run was trained under: what did not fit then is streamed now.
    let caches = try Experiment.activations(
        in: run, base: base, layout: layout, data: loaded, budget: try record.experiment?.resolvedMemoryBudget ?? .default,
        quiet: quiet)
    return (base, caches.train, caches.test)
}
