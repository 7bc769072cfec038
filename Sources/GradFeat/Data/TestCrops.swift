import Foundation
import Tensor

/// The test-time views whose class probabilities are averaged — the paper's protocol for VOC2007 and COCO
/// (Mu, Liang, Li, ICLR 2020, §4), after torchvision's `TenCrop`.
///
/// Images are cached at side `S` (for a 224 input, 256 = 8/7 · 224); each view is a square crop of side
/// `c = round(7/8 · S)`. Training images are centre-cropped to `c`, as the views are, so that the model sees one
/// input size.
///
/// - `none`: the image as it is (no crop, no averaging);
/// - `ten`: torchvision's `TenCrop(c)` — the four corners and the centre, then the same five of the mirrored image;
/// - `random:N`: N crops at seeded random offsets, each mirrored with probability ½, drawn per image from
///   (seed, view, image).
///
/// ```
/// p̄(x) = (1/V) Σ_v σ(f(view_v(x)))      σ = softmax (single-label) or sigmoid per class (multi-label)
/// ```
public enum TestCrops: Sendable, Equatable, CustomStringConvertible, Codable {
    case none
    case ten
    case random(count: Int)

    /// Parses `none`, `ten` or `random:N` (N from 1 to 100).
    public init(parsing text: String, option: String = "--test-crops") throws {
        let value = text.trimmingCharacters(in: .whitespaces).lowercased()
        switch value {
        case "none": self = .none
        case "ten": self = .ten
        default:
            guard value.hasPrefix("random:"), let count = Int(value.dropFirst(7)), (1...100).contains(count) else {
                throw GradFeatError.invalidConfiguration(
                    "\(option) '\(text)' is not none, ten or random:N (N from 1 to 100, e.g. random:10)")
            }
            self = .random(count: count)
        }
    }

    /// Decoded from its text form (`ten`, `random:10`), as config files write it.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do { self = try TestCrops(parsing: text, option: "test_crops") } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(error)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public var description: String {
        switch self {
        case .none: return "none"
        case .ten: return "ten"
        case let .random(count): return "random:\(count)"
        }
    }

    /// The number of views.
    public var viewCount: Int {
        switch self {
        case .none: return 1
        case .ten: return 10
        case let .random(count): return count
        }
    }

    /// The crop side for images of side `side`: 7/8 of it, rounded (224 for 256).
    public static func cropSide(for side: Int) -> Int { max(1, Int((Double(side) * 7 / 8).rounded())) }

    /// Where one view crops one image: its top-left corner and whether the crop is mirrored.
    public struct Placement: Sendable, Equatable {
        public var top: Int
        public var left: Int
        public var mirrored: Bool
    }

    /// torchvision's centre offset: `round((size − crop) / 2)`, halves to even.
    static func centred(_ size: Int, _ crop: Int) -> Int { Int((Double(size - crop) / 2).rounded(.toNearestOrEven)) }

    /// Where view `view` crops image `image` of `height`×`width` to `crop`×`crop`.
    public func placement(view: Int, image: Int, height: Int, width: Int, crop: Int, seed: UInt64) -> Placement {
        let (rangeY, rangeX) = (height - crop, width - crop)
        switch self {
        case .none:
            return Placement(top: Self.centred(height, crop), left: Self.centred(width, crop), mirrored: false)
        case .ten:
            let five = [
                (0, 0), (0, rangeX), (rangeY, 0), (rangeY, rangeX),
                (Self.centred(height, crop), Self.centred(width, crop)),
            ]
            let (top, left) = five[view % 5]
            // The last five crop the mirrored image at the same corners: in the original, the mirrored columns.
            return view < 5
                ? Placement(top: top, left: left, mirrored: false)
                : Placement(top: top, left: rangeX - left, mirrored: true)
        case .random:
            var rng = SeededRandom(
                seed: (seed ^ 0xC209) &+ UInt64(view) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(image) &* 0xD6E8_FEB8_6659_FD93
            )
            let top = Int(rng.next() % UInt64(rangeY + 1)), left = Int(rng.next() % UInt64(rangeX + 1))
            return Placement(top: top, left: left, mirrored: rng.next() >> 63 == 1)
        }
    }
}
