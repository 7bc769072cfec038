import Layers
import Tensor

/// The encoder of the BiGAN/ALI CIFAR models used in the paper (METHOD.md), with a linear head:
/// ```
/// conv1 3→32 k5 s1 · conv2 32→64 k4 s2 · conv3 64→128 k4 s1 · conv4 128→256 k4 s2 · conv5 256→512 k4 s1
/// ```
/// each followed by a leaky ReLU (slope 0.01), then a global average pool and `fc` 512→c. conv1–2 are θ1; conv3–5
/// are the θ2 candidates. Input 32×32 (or 28×28 grey for MNIST-like data, given `inputChannels` 1), pixels in [0, 1].
public enum BiganCIFAR {
    public static let name = "bigan-cifar"
    /// The same architecture at half the width (16 … 256 channels): a quick base network for demos and tests.
    public static let smallName = "bigan-small"

    public static func make(
        classes: Int, inputChannels: Int = 3, inputSize: Int = 32, widthDivisor: Int = 1, seed: UInt64
    ) -> Network {
        var rng = SeededRandom(seed: seed)
        let w = [32, 64, 128, 256, 512].map { $0 / widthDivisor }
        let widths = [
            (inputChannels, w[0], 5, 1), (w[0], w[1], 4, 2), (w[1], w[2], 4, 1), (w[2], w[3], 4, 2), (w[3], w[4], 4, 1),
        ]
        var layers: [NamedLayer] = []
        for (i, (cin, cout, kernel, stride)) in widths.enumerated() {
            layers.append(NamedLayer("conv\(i + 1)", Conv2D(cin, cout, kernel: kernel, stride: stride, rng: &rng)))
            layers.append(NamedLayer("lrelu\(i + 1)", LeakyReLU(slope: 0.01)))
        }
        layers.append(NamedLayer("pool", GlobalAvgPool()))
        return Network(
            modelName: widthDivisor == 1 ? name : smallName, backbone: Sequential(layers),
            head: LinearHead(features: w[4], classes: classes, rng: &rng),
            inputShape: [inputChannels, inputSize, inputSize], inputScaling: .unit)
    }
}
