import Foundation
import Tensor

/// The mean softmax cross-entropy `−(1/N) Σ_n log softmax(z_n)[y_n]`, whose gradient is `(softmax(z) − onehot(y))/N`.
public struct SoftmaxCrossEntropy: Loss {
    public init() {}

    public func evaluate(logits: Tensor, targets: Targets) throws -> (loss: Double, gradient: Tensor) {
        guard case let .classes(labels) = targets else {
            throw TensorError.invalidArgument(
                "softmax cross-entropy needs single-label targets; use SigmoidBinaryCrossEntropy for multi-label")
        }
        try checkLogits(logits, rows: labels.count, classes: nil, "softmax cross-entropy")
        let (n, k) = (labels.count, logits.shape[1])
        try checkLabels(labels, classCount: k)
        var total = 0.0
        let gradient = Tensor(shape: logits.shape) { g in
            logits.withUnsafeBufferPointer { z in
                for row in 0..<n {
                    let zr = z.baseAddress! + row * k, gr = g.baseAddress! + row * k
                    var peak = -Float.infinity
                    for j in 0..<k { peak = max(peak, zr[j]) }
                    var sum: Float = 0
                    for j in 0..<k {
                        gr[j] = exp(zr[j] - peak)
                        sum += gr[j]
                    }
                    total += Double(log(sum) + peak - zr[labels[row]])
                    let scale = 1 / (sum * Float(n))
                    for j in 0..<k { gr[j] *= scale }
                    gr[labels[row]] -= 1 / Float(n)
                }
            }
        }
        let loss = total / Double(max(n, 1))
        try checkFinite(loss, "softmax cross-entropy")
        return (loss, gradient)
    }
}
