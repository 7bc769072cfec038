import Layers
import Tensor

/// The BiGAN generator G(z): a latent code [N, k, 1, 1] to an image [N, C, 32, 32] in [0, 1]. It mirrors the
/// paper's encoder with transposed convolutions, as ALI's CIFAR-10 generator (Dumoulin et al., ICLR 2017) does:
/// ```
/// convT k→256 k4 s1 (4×4) · convT 256→128 k4 s2 (10×10) · convT 128→64 k4 s1 (13×13)
/// · convT 64→32 k4 s2 (28×28) · convT 32→32 k5 s1 (32×32) · conv 32→32 k1 · conv 32→C k1 · sigmoid
/// ```
/// each hidden layer followed by batch norm and a leaky ReLU (slope 0.01); widths divided by `widthDivisor`.
public enum BiganGenerator {
    /// The image side the generator produces.
    public static let imageSize = 32

    public static func make(latentSize: Int, channels: Int, widthDivisor: Int, seed: UInt64) -> Sequential {
        var rng = SeededRandom(seed: seed)
        let w = [256, 128, 64, 32, 32, 32].map { max($0 / widthDivisor, 1) }
        let transposed: [(Int, Int, Int, Int)] = [
            (latentSize, w[0], 4, 1), (w[0], w[1], 4, 2), (w[1], w[2], 4, 1), (w[2], w[3], 4, 2), (w[3], w[4], 5, 1),
        ]
        var layers: [NamedLayer] = []
        func normalized(_ name: String, _ layer: any Layer, channels: Int) {
            layers.append(NamedLayer(name, layer))
            layers.append(NamedLayer("\(name)_bn", BatchNorm2D(channels: channels)))
            layers.append(NamedLayer("\(name)_lrelu", LeakyReLU(slope: 0.01)))
        }
        for (i, (cin, cout, kernel, stride)) in transposed.enumerated() {
            normalized(
                "deconv\(i + 1)", ConvTranspose2D(cin, cout, kernel: kernel, stride: stride, bias: false, rng: &rng),
                channels: cout)
        }
        normalized("conv6", Conv2D(w[4], w[5], kernel: 1, bias: false, rng: &rng), channels: w[5])
        layers.append(NamedLayer("conv7", Conv2D(w[5], channels, kernel: 1, rng: &rng)))
        layers.append(NamedLayer("sigmoid", Sigmoid()))
        return Sequential(layers)
    }
}
