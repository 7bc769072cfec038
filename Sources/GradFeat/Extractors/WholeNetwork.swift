import Layers
import Tensor

/// Training a whole network, backbone and head, from images: supervised pre-training, the rotation pretext task,
/// or training from scratch. Batch norm uses batch statistics in training and updates its running statistics.
public struct WholeNetwork: FeatureExtractor {
    public var network: Network

    public init(_ network: Network) { self.network = network }

    public var namedParameters: NamedParameters {
        get {
            NamedParameters(
                names: network.backbone.parameterNames + ["fc.weight", "fc.bias"],
                tensors: network.backbone.parameters + network.head.layer.parameters)
        }
        set {
            let count = newValue.count - 2
            network.backbone.parameters = Array(newValue.tensors[0..<count])
            network.head.layer.parameters = Array(newValue.tensors[count...])
        }
    }

    public func forward(_ input: Tensor, mode: Mode) throws -> ExtractorOutput<TopPass> {
        let pass = try network.backbone.apply(input, tangent: nil, parameterTangent: nil, mode: mode)
        return ExtractorOutput(
            logits: try network.head.logits(pass.value),
            pass: TopPass(record: pass.record, features: pass.value), mode: mode)
    }

    /// Backpropagation in the forward pass's mode (its dropout masks and batch statistics).
    public func parameterGradients(_ output: ExtractorOutput<TopPass>, logitsGradient: Tensor) throws -> [Tensor] {
        let head = try linearHeadGradients(features: output.pass.features, logitsGradient: logitsGradient)
        let cotangent = featureCotangent(logitsGradient, headWeight: network.head.weight)
        let backbone = try network.backbone.vjp(
            output.pass.record, outputGradient: cotangent, needInputGradient: false, mode: output.mode)
        return backbone.parameters + head
    }

    public mutating func updateStatistics(_ output: ExtractorOutput<TopPass>) {
        network.backbone.updateStatistics(from: output.pass.record)
    }

    public var updatesStatisticsInTraining: Bool { !network.backbone.buffers.isEmpty }
}
