import Foundation
import HDF5
import Layers
import Tensor

/// Network weights in HDF5: one dataset per parameter and buffer, named and laid out as in PyTorch's state dict
/// (`conv1.weight` [O, C, kh, kw], `fc.weight` [c, d], `bn1.running_mean`), so a PyTorch model converts with a short
/// h5py script and back. Attributes: `format` = "gradfeat-weights", `version` = 1, `model`, `weights_hash`.
public enum WeightsFile {
    public static let format = "gradfeat-weights"
    public static let version = 1

    /// Writes every parameter and buffer of `network` (head as `fc.*`), atomically.
    public static func save(_ network: some BaseNetwork, to url: URL) throws {
        let state = network.stateDict
        try HDF5File.writeAtomically(to: url, format: format, version: version) { file in
            try file.setAttribute("model", network.modelName)
            try file.setAttribute("weights_hash", contentHash(state.map(\.value)))
            for (name, value) in state {
                try file.createDataset(name, values: value.scalars, shape: value.shape.dimensions)
            }
        }
    }

    /// What a weights file holds compared with a model.
    public struct Report: Sendable, CustomStringConvertible {
        public var missing: [String] = []
        public var unexpected: [String] = []
        public var mismatched: [(name: String, model: Shape, file: Shape)] = []
        public var isExact: Bool { missing.isEmpty && unexpected.isEmpty && mismatched.isEmpty }

        public var description: String {
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing from the file: \(missing.joined(separator: ", "))") }
            if !unexpected.isEmpty { parts.append("not in the model: \(unexpected.joined(separator: ", "))") }
            if !mismatched.isEmpty {
                parts.append(
                    "shape mismatch: "
                        + mismatched.map { "\($0.name) model \($0.model) file \($0.file)" }
                        .joined(separator: ", "))
            }
            return parts.isEmpty ? "all parameters match" : parts.joined(separator: "; ")
        }
    }

    /// Compares the file's datasets with `network`'s names and shapes.
    public static func check(_ url: URL, against network: some BaseNetwork) throws -> Report {
        let file = try HDF5File(url: url, mode: .readOnly)
        try file.requireFormat(format, version: version)
        let names = try file.children()
        var report = Report()
        let model = network.stateDict
        for (name, value) in model {
            guard names.contains(name) else { report.missing.append(name); continue }
            let shape = Shape(try file.dataset(named: name).shape)
            if shape != value.shape { report.mismatched.append((name, value.shape, shape)) }
        }
        let known = Set(model.map(\.name))
        report.unexpected = names.filter { !known.contains($0) && !$0.hasSuffix("num_batches_tracked") }
        return report
    }

    /// Loads the file into `network`. Any mismatch is refused with one message listing missing, unexpected and
    /// mismatched parameters, unless the missing or mismatched ones match a prefix in `keepInitial` (e.g. "fc."
    /// for a new head), which then keep their initial values.
    public static func load<N: BaseNetwork>(_ url: URL, into network: N, keepInitial: [String] = []) throws -> N {
        let report = try check(url, against: network)
        func kept(_ name: String) -> Bool { keepInitial.contains { name.hasPrefix($0) } }
        guard report.unexpected.isEmpty, report.missing.allSatisfy(kept),
            report.mismatched.allSatisfy({ kept($0.name) })
        else {
            throw GradFeatError.invalidConfiguration(
                "weights \(url.path) do not fit model '\(network.modelName)': \(report). "
                    + "Pass --keep-initial PREFIX for parameters that may keep their initial values (e.g. fc.)")
        }
        let skipped = Set(report.missing + report.mismatched.map(\.name))
        let file = try HDF5File(url: url, mode: .readOnly)
        var values: [String: Tensor] = [:]
        for (name, value) in network.stateDict where !skipped.contains(name) {
            let scalars: [Float] = try file.dataset(named: name).read()
            let tensor = try Tensor(shape: value.shape, scalars: scalars)
            guard tensor.isFinite else {
                throw GradFeatError.invalidConfiguration("weights \(url.path): '\(name)' holds NaN or infinite values")
            }
            values[name] = tensor
        }
        try verifyHash(file, url: url, values: values, order: network.stateDict.map(\.name), skipped: skipped)
        var result = network
        result.backbone.parameters = zip(result.backbone.parameterNames, result.backbone.parameters).map {
            values[$0] ?? $1
        }
        result.backbone.buffers = zip(result.backbone.bufferNames, result.backbone.buffers).map { values[$0] ?? $1 }
        result.head.layer.parameters = zip(result.head.layer.parameterNames, result.head.layer.parameters)
            .map { values["fc." + $0] ?? $1 }
        return result
    }

    /// Checks the file's `weights_hash` against the values read (and, for parameters that keep their initial
    /// values, the file's own), in the saving network's order: a flipped bit anywhere is refused, not trained on.
    /// Files without the attribute (converted from PyTorch by a script) and files missing parameters of this model
    /// cannot be checked and pass.
    private static func verifyHash(
        _ file: HDF5File, url: URL, values: [String: Tensor], order: [String], skipped: Set<String>
    ) throws {
        guard try file.hasAttribute("weights_hash") else { return }
        let recorded = try file.attribute("weights_hash", as: String.self)
        let names = Set(try file.children())
        var tensors: [Tensor] = []
        for name in order {
            if let value = values[name] {
                tensors.append(value)
            } else if names.contains(name) {
                let dataset = try file.dataset(named: name)
                tensors.append(try Tensor(shape: Shape(dataset.shape), scalars: try dataset.read()))
            } else {
                return
            }
        }
        let found = contentHash(tensors)
        guard found == recorded else {
            throw GradFeatError.invalidConfiguration(
                "weights \(url.path): the values do not match the file's weights_hash (recorded \(recorded), found "
                    + "\(found)): the file was damaged or altered after it was written. Restore it from a copy, or "
                    + "pre-train again; it cannot be used as it is")
        }
    }
}
