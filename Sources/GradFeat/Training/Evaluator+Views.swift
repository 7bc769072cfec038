import Foundation
import Layers
import Tensor

extension Evaluator {
    /// The metrics of predictions averaged over test-time views (`TestCrops`): each view's logits become class
    /// probabilities — softmax for single-label targets, a sigmoid per class for multi-label ones — and their mean
    /// is scored. Every view holds the same samples, in the same order.
    ///
    /// ```
    /// p̄ = (1/V) Σ_v σ(z_v)      loss = −(1/N) Σ_i log p̄_i,y_i   (binary cross-entropy per class, multi-label)
    /// ```
    public func evaluate(_ extractor: any FeatureExtractor, views: [any BatchSource]) throws -> Metrics {
        guard let first = views.first else {
            throw GradFeatError.invalidConfiguration(
                "averaging predictions over test-time views needs at least one view")
        }
        let targets = try first.allTargets
        guard views.allSatisfy({ $0.count == first.count }) else {
            throw GradFeatError.invalidConfiguration(
                "test-time views hold different numbers of samples: \(views.map(\.count))")
        }
        var mean: [Double] = []
        var classes = 0
        for view in views {
            let logits = try self.logits(extractor, on: view)
            classes = logits.shape[1]
            let probabilities = Self.probabilities(logits, targets: targets)
            if mean.isEmpty { mean = [Double](repeating: 0, count: probabilities.count) }
            for i in mean.indices { mean[i] += probabilities[i] / Double(views.count) }
        }
        try Self.check(targets, samples: first.count, classes: classes)
        // Scores ranked in place of logits: log p̄ (softmax) or the logit of p̄ (sigmoid), taken in Float64 so
        // that averages near 1 keep their order when stored as Float.
        let scores = try Tensor(
            shape: [first.count, classes],
            scalars: mean.map { average in
                let p = min(max(average, 0), 1) // a sum of V saturated sigmoids / V can round past 1
                if case .multiLabel = targets { return Float(log(p) - log1p(-p)) }
                return Float(log(p))
            })
        return Metrics(logits: scores, targets: targets, loss: Self.loss(of: mean, classes: classes, targets: targets))
    }

    /// Throws unless `targets` fit `samples` rows of `classes` scores (a tampered view cache must not index past
    /// them).
    static func check(_ targets: Targets, samples: Int, classes: Int) throws {
        switch targets {
        case let .classes(labels):
            guard labels.count == samples else {
                throw GradFeatError.invalidConfiguration(
                    "a test-time view holds \(labels.count) labels for \(samples) samples; rebuild the view caches")
            }
            if let bad = labels.first(where: { !(0..<classes).contains($0) }) {
                throw GradFeatError.invalidConfiguration(
                    "a test-time view's label \(bad) is outside the model's \(classes) classes; rebuild the view caches"
                )
            }
        case let .multiLabel(flags, _):
            guard flags.count == samples * classes else {
                throw GradFeatError.invalidConfiguration(
                    "a test-time view's multi-label targets hold \(flags.count) flags, not \(samples) × \(classes)")
            }
        case .values:
            break
        }
    }

    /// Softmax (single-label) or sigmoid (multi-label) of each row of `logits`, in Float64.
    static func probabilities(_ logits: Tensor, targets: Targets) -> [Double] {
        let (n, k) = (logits.shape[0], logits.shape[1])
        var result = logits.scalars.map(Double.init)
        if case .multiLabel = targets {
            for i in result.indices { result[i] = 1 / (1 + exp(-result[i])) }
            return result
        }
        for row in 0..<n {
            let slice = (row * k)..<((row + 1) * k)
            let largest = result[slice].max() ?? 0
            var total = 0.0
            for i in slice {
                result[i] = exp(result[i] - largest)
                total += result[i]
            }
            for i in slice { result[i] /= total }
        }
        return result
    }

    /// The cross-entropy of the averaged probabilities; nil for real-valued targets.
    static func loss(of probabilities: [Double], classes k: Int, targets: Targets) -> Double? {
        let floor = 1e-12
        switch targets {
        case let .classes(labels):
            let total = labels.enumerated().reduce(0.0) {
                $0 - log(max(probabilities[$1.offset * k + $1.element], floor))
            }
            return total / Double(max(labels.count, 1))
        case let .multiLabel(flags, _):
            var total = 0.0, counted = 0
            for (i, flag) in flags.enumerated() where flag >= 0 {
                total -= log(max(flag > 0 ? probabilities[i] : 1 - probabilities[i], floor))
                counted += 1
            }
            return total / Double(max(counted, 1))
        case .values:
            return nil
        }
    }
}
