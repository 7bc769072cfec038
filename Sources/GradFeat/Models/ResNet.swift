import Layers
import Tensor

/// ResNets in torchvision's layout and parameter names (`conv1`, `bn1`, `layer4.1.conv2.weight`, `fc`), and a
/// small CIFAR ResNet. Residual blocks sit at the top level as `layerS.B`, so any block can be the split point or
/// a linearized layer (the paper linearizes `layer4.1` of ResNet18).
public enum ResNet {
    public enum Depth: Int, Sendable, CaseIterable {
        case resnet18 = 18, resnet34 = 34, resnet50 = 50

        var blocks: [Int] {
            switch self {
            case .resnet18: return [2, 2, 2, 2]
            case .resnet34, .resnet50: return [3, 4, 6, 3]
            }
        }
        var usesBottleneck: Bool { self == .resnet50 }
        public var name: String { "resnet\(rawValue)" }
    }

    /// An ImageNet-style ResNet (7×7 stem, max pool, four stages), torchvision's layout.
    /// `width` is the stem's channel count (torchvision: 64; stage s has `width << s` planes); a smaller one gives
    /// the same topology and names with fewer parameters (the PyTorch parity fixtures use 4).
    public static func make(_ depth: Depth, classes: Int, inputSize: Int = 224, width: Int = 64, seed: UInt64)
        -> Network
    {
        var rng = SeededRandom(seed: seed)
        var layers: [NamedLayer] = [
            NamedLayer("conv1", Conv2D(3, width, kernel: 7, stride: 2, padding: 3, bias: false, rng: &rng)),
            NamedLayer("bn1", BatchNorm2D(channels: width)),
            NamedLayer("relu", ReLU()),
            NamedLayer("maxpool", MaxPool2D(kernel: 3, stride: 2, padding: 1)),
        ]
        var channels = width
        for (stage, count) in depth.blocks.enumerated() {
            let planes = width << stage
            for block in 0..<count {
                let stride = block == 0 && stage > 0 ? 2 : 1
                let layer: Residual
                if depth.usesBottleneck {
                    layer = .bottleneck(inChannels: channels, planes: planes, stride: stride, rng: &rng)
                    channels = planes * 4
                } else {
                    layer = .basicBlock(inChannels: channels, outChannels: planes, stride: stride, rng: &rng)
                    channels = planes
                }
                layers.append(NamedLayer("layer\(stage + 1).\(block)", layer))
            }
        }
        layers.append(NamedLayer("avgpool", GlobalAvgPool()))
        return Network(
            modelName: depth.name, backbone: Sequential(layers),
            head: LinearHead(features: channels, classes: classes, rng: &rng), inputShape: [3, inputSize, inputSize],
            inputScaling: .imageNet)
    }

    public static let cifarName = "resnet-cifar"

    /// A small CIFAR ResNet: a 3×3 stem and three stages of two basic blocks (16, 32, 64 channels).
    public static func makeCIFAR(classes: Int, inputChannels: Int = 3, inputSize: Int = 32, seed: UInt64) -> Network {
        var rng = SeededRandom(seed: seed)
        var layers: [NamedLayer] = [
            NamedLayer("conv1", Conv2D(inputChannels, 16, kernel: 3, padding: 1, bias: false, rng: &rng)),
            NamedLayer("bn1", BatchNorm2D(channels: 16)),
            NamedLayer("relu", ReLU()),
        ]
        var channels = 16
        for stage in 0..<3 {
            let planes = 16 << stage
            for block in 0..<2 {
                let stride = block == 0 && stage > 0 ? 2 : 1
                layers.append(
                    NamedLayer(
                        "layer\(stage + 1).\(block)",
                        Residual.basicBlock(inChannels: channels, outChannels: planes, stride: stride, rng: &rng)))
                channels = planes
            }
        }
        layers.append(NamedLayer("avgpool", GlobalAvgPool()))
        return Network(
            modelName: cifarName, backbone: Sequential(layers),
            head: LinearHead(features: channels, classes: classes, rng: &rng),
            inputShape: [inputChannels, inputSize, inputSize], inputScaling: .unit)
    }
}
