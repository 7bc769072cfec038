// Convolution micro-benchmark: forward, input-gradient and weight-gradient GFLOP/s for the convolutions of the
// paper's CIFAR encoder (METHOD.md) at batch 128, beside the sgemm rate measured in the same run.
//
//     swift run -c release ConvBench [batch] [repetitions]            bigan-cifar's convolutions at 32×32
//     swift run -c release ConvBench resnet18 [batch] [repetitions]   ResNet18's at 112×112 (default batch 32)
import Foundation
import Layers
import Tensor

let resnet = CommandLine.arguments.dropFirst().first == "resnet18"
let arguments = resnet ? Array(CommandLine.arguments.dropFirst()) : CommandLine.arguments
let batch = arguments.count > 1 ? Int(arguments[1]) ?? 128 : (resnet ? 32 : 128)
let repetitions = arguments.count > 2 ? Int(arguments[2]) ?? 5 : 5

/// The median of `repetitions` timings of `body`, after one warm-up call.
func medianSeconds(_ body: () -> Void) -> Double {
    body()
    var times: [Double] = []
    for _ in 0..<repetitions {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return times.sorted()[times.count / 2]
}

func gflops(_ flops: Double, _ seconds: Double) -> String { String(format: "%7.1f", flops / seconds / 1e9) }

var rng = SeededRandom(seed: 1)

// The sgemm reference: a square product large enough to reach the kernel's peak.
let size = 2048
let a = Tensor.uniform([size, size], low: -1, high: 1, using: &rng)
let b = Tensor.uniform([size, size], low: -1, high: 1, using: &rng)
var c = Tensor.zeros([size, size])
let gemmSeconds = medianSeconds {
    a.withUnsafeBufferPointer { ap in
        b.withUnsafeBufferPointer { bp in
            c.withUnsafeMutableBufferPointer { cp in
                BLAS.gemm(
                    m: size, n: size, k: size, a: ap.baseAddress!, lda: size, b: bp.baseAddress!, ldb: size,
                    c: cp.baseAddress!, ldc: size)
            }
        }
    }
}
let gemmRate = 2 * Double(size * size * size) / gemmSeconds / 1e9
print(
    "OpenBLAS core \(BLAS.coreName), C kernels \(KernelInstructionSet.active), \(BLAS.threadCount) workers (OpenBLAS single-threaded in each), batch \(batch), median of \(repetitions)"
)
print(String(format: "sgemm %dx%dx%d: %.1f GFLOP/s", size, size, size, gemmRate))
print("")
print(
    "| layer | input | output | path | forward GFLOP/s | input-grad GFLOP/s | weight-grad GFLOP/s | forward % of sgemm |"
)
print("|---|---|---|---|---|---|---|---|")

// (name, in, out, kernel, stride, padding, input size) of bigan-cifar, or of ResNet18's distinct convolutions.
let layers: [(String, Int, Int, Int, Int, Int, Int)] =
    resnet
    ? [
        ("conv1", 3, 64, 7, 2, 3, 112), ("layer1", 64, 64, 3, 1, 1, 28), ("layer2.0.conv1", 64, 128, 3, 2, 1, 28),
        ("layer2", 128, 128, 3, 1, 1, 14), ("layer2.0.downsample", 64, 128, 1, 2, 0, 28),
        ("layer3.0.conv1", 128, 256, 3, 2, 1, 14), ("layer3", 256, 256, 3, 1, 1, 7),
        ("layer4.0.conv1", 256, 512, 3, 2, 1, 7), ("layer4", 512, 512, 3, 1, 1, 4),
    ]
    : [
        ("conv1", 3, 32, 5, 1, 0, 32), ("conv2", 32, 64, 4, 2, 0, 28), ("conv3", 64, 128, 4, 1, 0, 13),
        ("conv4", 128, 256, 4, 2, 0, 10), ("conv5", 256, 512, 4, 1, 0, 4),
    ]
for (name, inChannels, outChannels, kernel, stride, padding, inputSize) in layers {
    let geometry = try ConvolutionGeometry(
        batch: batch, inChannels: inChannels, height: inputSize, width: inputSize, outChannels: outChannels,
        kernel: (kernel, kernel), stride: (stride, stride), padding: (padding, padding))
    let x = Tensor.uniform(geometry.inputShape, low: -1, high: 1, using: &rng)
    let w = Tensor.uniform(geometry.weightShape, low: -1, high: 1, using: &rng)
    let g = Tensor.uniform(geometry.outputShape, low: -1, high: 1, using: &rng)
    var y = Tensor.zeros(geometry.outputShape), dx = Tensor.zeros(geometry.inputShape),
        dw = Tensor.zeros(geometry.weightShape)
    let (xp, wp, gp) = (
        x.scalars.withUnsafeBufferPointer { $0.baseAddress! },
        w.scalars.withUnsafeBufferPointer { $0.baseAddress! },
        g.scalars.withUnsafeBufferPointer { $0.baseAddress! }
    )
    let forward = medianSeconds {
        y.withUnsafeMutableBufferPointer { geometry.forward(x: xp, weight: wp, bias: nil, y: $0.baseAddress!) }
    }
    let inputGradient = medianSeconds {
        dx.withUnsafeMutableBufferPointer {
            geometry.backward(g: gp, x: xp, weight: wp, dx: $0.baseAddress!, dWeight: nil, dBias: nil)
        }
    }
    let weightGradient = medianSeconds {
        dw.withUnsafeMutableBufferPointer {
            geometry.backward(g: gp, x: xp, weight: wp, dx: nil, dWeight: $0.baseAddress!, dBias: nil)
        }
    }
    withExtendedLifetime((x, w, g)) {}
    let f = geometry.flops
    print(
        "| \(name) | \(geometry.inputShape) | \(geometry.outputShape) | \(geometry.path) | \(gflops(f, forward)) | "
            + "\(gflops(f, inputGradient)) | \(gflops(f, weightGradient)) | "
            + String(format: "%.0f%%", 100 * f / forward / 1e9 / gemmRate) + " |")
}
