import Layers
import Tensor

/// Train-time augmentation for models trained from images (`--augment crop:4,flip`): a random crop from the image
/// padded by `padding` zeros, then a mirror image with probability ½ — the standard CIFAR augmentation. The trainer
/// applies it to every training batch before the model sees it (`Trainer.augmentation`), seeded by the step's seed,
/// so every model — activation, gradient, GradFeat, fine-tuning and a plugin's — trains on the same augmented
/// images; evaluation never sees it.
///
/// Only images can be augmented: the layers before `--split` are cached once, so an augmented run trains from the
/// images (its split is the network's first layer, its cache holds the scaled images).
public struct Augmentation: Sendable, Equatable, Codable, CustomStringConvertible {
    public var padding: Int
    public var mirror: Bool

    /// The split earlier versions recorded for augmented runs (a layer of that name stood in front of the network);
    /// read as the network's first layer.
    public static let legacySplit = "augment"

    /// Keeps the augmentation's placements apart from the dropout masks drawn from the same step seed.
    static let salt: UInt64 = 0xA06E_17A7_10E5_0001

    public init(padding: Int = 4, mirror: Bool = true) {
        self.padding = padding
        self.mirror = mirror
    }

    /// Parses `crop:P,flip`, `crop:P` or `flip` (P from 0 to 64); nil for `none`.
    public static func parse(_ text: String, option: String = "--augment") throws -> Augmentation? {
        let parts = text.lowercased().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        if parts == ["none"] { return nil }
        var augmentation = Augmentation(padding: 0, mirror: false)
        for part in parts {
            if part == "flip" {
                augmentation.mirror = true
            } else if part.hasPrefix("crop:"), let padding = Int(part.dropFirst(5)), (0...64).contains(padding) {
                augmentation.padding = padding
            } else {
                throw GradFeatError.invalidConfiguration(
                    "\(option) '\(text)': '\(part)' is not crop:P (P from 0 to 64) or flip; write e.g. crop:4,flip, or none"
                )
            }
        }
        guard augmentation.padding > 0 || augmentation.mirror else {
            throw GradFeatError.invalidConfiguration(
                "\(option) '\(text)' augments nothing; write e.g. crop:4,flip, or none")
        }
        return augmentation
    }

    public var description: String {
        ([padding > 0 ? "crop:\(padding)" : nil, mirror ? "flip" : nil] as [String?]).compactMap { $0 }
            .joined(separator: ",")
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            guard let parsed = try Self.parse(text, option: "augment") else {
                throw GradFeatError.invalidConfiguration("augment: none")
            }
            self = parsed
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(error)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension Augmentation {
    /// `images` [N, C, H, W] augmented under a step's `seed`: the same seed gives the same crops and mirrors, so a
    /// resumed run repeats them.
    public func apply(to images: Tensor, seed: UInt64) throws -> Tensor {
        try RandomCropFlip(padding: padding, mirror: mirror, salt: Self.salt)
            .apply(images, tangent: nil, parameterTangent: nil, mode: .training(seed: seed)).value
    }
}
