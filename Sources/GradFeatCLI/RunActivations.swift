import Foundation
import GradFeat

/// A run folder's base network and its training and test activations — and its test views' when the run averaged
/// predictions over test-time crops (`test_crops`) —: the run's caches when all are there, else all computed again
/// from the data set the record names (and saved, as `train` does). Caches found are streamed from their files, a
/// batch at a time. `eval --run`, `attribute` and `diagnose` read runs through it.
func runActivations(
    run: RunDirectory, record: RunRecord, layout: RunDirectory.Layout, quiet: Bool
) throws -> (base: Network, train: any BatchSource, test: any BatchSource, views: [any BatchSource]) {
    let crops = record.experiment?.testCrops ?? TestCrops.none
    let viewURLs = (0..<(crops == .none ? 0 : crops.viewCount)).map {
        run.activationCache(Experiment.TestViews.role($0))
    }
    let (trainURL, testURL) = (run.activationCache("train"), run.activationCache("test"))
    if ([testURL, trainURL] + viewURLs).allSatisfy({ FileManager.default.fileExists(atPath: $0.path) }) {
        let classes = try ActivationCacheReader(testURL).classCount
        let base = try run.baseNetwork(record, classes: classes)
        let fix = "train again into this folder to rebuild it"
        func verified(_ url: URL) throws -> any BatchSource {
            try run.verifiedActivations(url, network: base, layer: layout.split, fix: fix)
        }
        return (base, try verified(trainURL), try verified(testURL), try viewURLs.map(verified))
    }
    if !quiet { note("\(run.url.path) lacks its activation caches: computing them from \(record.dataset) again") }
    // The data as the run loaded them: the record's experiment (older records: their data fields).
    let dataSpec =
        record.experiment?.data
        ?? DataSpec(
            dataset: record.dataset, dataDirectory: record.dataDirectory, imageSize: record.imageSize ?? 64,
            trainSize: record.trainSize ?? 0, testSize: record.testSize ?? 0)
    // Within the budget the run was trained under: what did not fit then is streamed now.
    let budget = try record.experiment?.resolvedMemoryBudget ?? .default
    var loaded = try ExperimentData.load(
        dataSpec, model: try GradFeatCLI.plugins.models.entry(record.model), seed: record.seed,
        plugins: GradFeatCLI.plugins, quiet: quiet, budget: budget, spillDirectory: run.url)
    let views = try loaded.cropForTestViews(crops).map {
        Experiment.TestViews(crops: crops, images: $0.uncroppedTest, side: $0.side, seed: record.seed)
    }
    let base = try run.baseNetwork(record, classes: loaded.train.classCount)
    let caches = try Experiment.activations(
        in: run, base: base, layout: layout, data: loaded, views: views, budget: budget, quiet: quiet)
    return (base, caches.train, caches.test, caches.views)
}
