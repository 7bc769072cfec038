import ArgumentParser
import Foundation
import GradFeat
import HDF5

/// Checks a weights file (converted from PyTorch with scripts/convert_torch.py) against a model, name by name and
/// shape by shape, and optionally rewrites it in GradFeat's own order with its content hash.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Check a weights file (HDF5, PyTorch names and layouts) against a model before using it.",
        discussion: """
            Every parameter and buffer of the model must be in the file with the same shape, and the file must \
            hold nothing else; missing, unexpected and mismatched tensors are reported together in one message. \
            --keep-initial PREFIX allows missing or mismatched tensors under PREFIX (e.g. fc. for a new head): \
            they keep their initial values. Convert PyTorch weights first: see docs/PYTORCH.md.
            """)

    @Option(help: "Model: \(ModelZoo.names.joined(separator: ", ")).", completion: RegistryCompletion.models)
    var model: String

    @Option(help: "The weights file to check (HDF5, format gradfeat-weights).")
    var weights: String

    @Option(
        parsing: .upToNextOption, help: "Parameter-name prefixes that may be missing or shaped differently (e.g. fc.).")
    var keepInitial: [String] = []

    @Option(help: "Number of classes of the model's head (default: the file's fc.weight rows, else 1000).")
    var classes: Int?

    @Option(help: "Write the checked weights here in GradFeat's order, with their content hash (weights_hash).")
    var output: String?

    @OptionGroup var process: ProcessOptions

    func run() throws {
        try process.apply()
        let url = URL(fileURLWithPath: weights)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ValidationError("--weights \(weights): no such file")
        }
        let shapes = try datasetShapes(url)
        let classCount = classes ?? shapes["fc.weight"]?.first ?? 1000
        // A grey-image encoder (bigan-cifar on MNIST-like data) has a one-channel conv1.
        let channels = shapes["conv1.weight"].map { $0.count == 4 ? $0[1] : 3 } ?? 3
        let fresh = try ModelZoo.make(model, classes: classCount, inputChannels: channels, seed: 0)
        let report = try WeightsFile.check(url, against: fresh)
        let state = fresh.stateDict
        func kept(_ name: String) -> Bool { keepInitial.contains { name.hasPrefix($0) } }
        let allowed =
            report.unexpected.isEmpty && report.missing.allSatisfy(kept)
            && report.mismatched.allSatisfy { kept($0.name) }
        if report.isExact {
            print(
                "\(weights): all \(state.count) tensors of '\(model)' (\(classCount) classes, "
                    + "\(state.reduce(0) { $0 + $1.value.count }) values) are present with matching shapes")
        } else if allowed {
            print(
                "\(weights) fits '\(model)' (\(classCount) classes) except for tensors that keep their initial values: \(report)"
            )
        } else {
            var message = "\(weights) does not fit '\(model)' (\(classCount) classes): \(report)."
            if report.unexpected.isEmpty {
                message += " Pass --keep-initial PREFIX for parameters that may keep their initial values (e.g. fc.)."
            } else {
                message +=
                    " Unexpected tensors are never loaded: rename or drop them when converting "
                    + "(scripts/convert_torch.py --rename OLD=NEW, --drop PREFIX)."
            }
            note(message)
            throw ExitCode(1)
        }
        // Loading also refuses NaN or infinite values.
        let network = try WeightsFile.load(url, into: fresh, keepInitial: keepInitial)
        if let output {
            try WeightsFile.save(network, to: URL(fileURLWithPath: output))
            print("wrote \(output)")
        }
    }

    /// The shape of every dataset at the root of the file.
    func datasetShapes(_ url: URL) throws -> [String: [Int]] {
        let file = try HDF5File(url: url, mode: .readOnly)
        try file.requireFormat(WeightsFile.format, version: WeightsFile.version)
        var shapes: [String: [Int]] = [:]
        for name in try file.children() where try file.objectKind(at: name) == .dataset {
            shapes[name] = try file.dataset(named: name).shape
        }
        return shapes
    }
}
