/// SVHN cropped digits (Netzer et al., 2011, "Reading Digits in Natural Images with Unsupervised
/// Feature Learning"): `train_32x32.mat`, `test_32x32.mat`, `extra_32x32.mat`.
///
/// Each file is a MATLAB level-5 MAT-file with
///
/// ```
/// X  uint8 [32, 32, 3, N]   (row, column, channel, image), column-major
/// y  [N, 1]  labels 1…10, where 10 means the digit 0
/// ```
///
/// Images are transposed to `[N, 3, 32, 32]` and labels mapped to the digit (`10` → `0`), so class
/// `k` is digit `k` and ``ImageSet/classNames`` are `"0"` … `"9"`.
public enum SVHN {
    /// Loads one SVHN `.mat` file.
    ///
    /// - Parameters:
    ///   - path: the `.mat` file (raw or gzip).
    ///   - split: split name; `nil` takes it from the file name (`train_32x32.mat` → `train`).
    public static func load(path: String, split: String? = nil) throws(DatasetError) -> ImageSet {
        let file = try MATFile(path: path)
        let x = try file.variable("X")
        let y = try file.variable("y")
        guard x.dimensions.count == 4 || x.dimensions.count == 3, x.dimensions[2] == 3 else {
            throw .malformed(
                path: path, entry: "variable X", reason: "dimensions \(x.dimensions), expected [H, W, 3, N]")
        }
        let height = x.dimensions[0]
        let width = x.dimensions[1]
        let n = x.dimensions.count == 4 ? x.dimensions[3] : 1
        guard height > 0, width > 0 else {
            throw .malformed(path: path, entry: "variable X", reason: "images of \(height)x\(width) pixels")
        }
        let labels = y.storage.doubles
        guard labels.count == n else {
            throw .malformed(path: path, entry: "variable y", reason: "\(labels.count) labels for \(n) images")
        }
        var values = [Int64](repeating: 0, count: n)
        for (i, label) in labels.enumerated() {
            guard label >= 1 && label <= 10 && label == label.rounded() else {
                throw .malformed(path: path, entry: "y(\(i + 1))", reason: "label \(label) outside 1…10")
            }
            values[i] = Int64(label) % 10
        }
        let source: [UInt8]
        switch x.storage {
        case .uint8(let bytes): source = bytes
        case .double(let doubles): source = doubles.map { $0.isNaN ? 0 : UInt8(max(0, min(255, $0.rounded()))) }
        }
        let plane = height * width
        var pixels = [UInt8](repeating: 0, count: n * 3 * plane)
        source.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                // Column-major (r, c, ch, i) at r + H*c + H*W*ch + 3*H*W*i  →  row-major [i, ch, r, c].
                for block in 0..<(n * 3) {
                    let s = src.baseAddress! + block * plane
                    let d = dst.baseAddress! + block * plane
                    for c in 0..<width {
                        for r in 0..<height { d[r * width + c] = s[c * height + r] }
                    }
                }
            }
        }
        let stem =
            ((path.split(separator: "/").last.map(String.init) ?? path).split(separator: "_").first).map(String.init)
            ?? "train"
        return ImageSet(
            images: pixels, count: n, channels: 3, height: height, width: width,
            labels: .single(values), classNames: (0..<10).map(String.init), source: path,
            split: split ?? stem)
    }
}
