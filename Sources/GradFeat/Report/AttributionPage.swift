import Datasets
import Foundation

/// A standalone HTML page of an attribution (`gradfeat attribute --html`): for each shown test image, the training
/// images that help its true-class logit most and those that hurt it most, with labels and scores. Images are
/// inline PNGs, so the page is one file that any browser opens.
public struct AttributionPage: Sendable {
    /// One test image and its ranked training images.
    public struct Row: Sendable {
        public var test: Int
        public var testLabel: Int
        public var helpful: [(index: Int, score: Float)]
        public var harmful: [(index: Int, score: Float)]

        public init(
            test: Int, testLabel: Int, helpful: [(index: Int, score: Float)], harmful: [(index: Int, score: Float)]
        ) {
            self.test = test
            self.testLabel = testLabel
            self.helpful = helpful
            self.harmful = harmful
        }
    }

    public var title: String
    public var classNames: [String]
    public var rows: [Row]

    public init(title: String, classNames: [String], rows: [Row]) {
        self.title = title
        self.classNames = classNames
        self.rows = rows
    }

    /// The page, with each image read from `train` or `test` (the images the run's activations were computed from).
    public func render(train: some ImageSource, test: some ImageSource) throws -> String {
        func image(_ set: some ImageSource, _ index: Int, caption: String, kind: String) throws -> String {
            let (channels, height, width) = (set.imageShape[0], set.imageShape[1], set.imageShape[2])
            let pixels = try set.images([index]).pixels
            let png = try ImageCodec.encodePNG(pixels, width: width, height: height, channels: channels)
            return "<figure class=\"\(kind)\"><img src=\"data:image/png;base64,\(Data(png).base64EncodedString())\" "
                + "alt=\"\(escape(caption))\"><figcaption>\(escape(caption))</figcaption></figure>"
        }
        func name(_ label: Int) -> String { classNames.indices.contains(label) ? classNames[label] : "class \(label)" }
        var body = ""
        for row in rows {
            body += "<section><h2>test image \(row.test) — \(escape(name(row.testLabel)))</h2><div class=\"strip\">"
            body += try image(test, row.test, caption: "test \(row.test): \(name(row.testLabel))", kind: "query")
            body += "<span class=\"label\">helps most</span>"
            for (index, score) in row.helpful {
                body += try image(
                    train, index, caption: String(format: "#%d %@ %+.3g", index, name(trainLabel(train, index)), score),
                    kind: "helpful")
            }
            body += "<span class=\"label\">hurts most</span>"
            for (index, score) in row.harmful {
                body += try image(
                    train, index, caption: String(format: "#%d %@ %+.3g", index, name(trainLabel(train, index)), score),
                    kind: "harmful")
            }
            body += "</div></section>\n"
        }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
            <style>
            body { font-family: system-ui, sans-serif; margin: 1.5em; }
            h2 { font-size: 1em; margin: 1.2em 0 0.3em; }
            .strip { display: flex; flex-wrap: wrap; align-items: flex-start; gap: 6px; }
            figure { margin: 0; text-align: center; font-size: 0.7em; width: 76px; }
            img { width: 64px; height: 64px; image-rendering: pixelated; border: 3px solid #ccc; }
            .query img { border-color: #333; } .helpful img { border-color: #2ca02c; } .harmful img { border-color: #d62728; }
            .label { writing-mode: vertical-rl; font-size: 0.75em; color: #555; }
            </style></head><body>
            <h1>\(escape(title))</h1>
            <p>Score: the test image's true-class logit minus that of the model fitted without the training image
            (exact leave-one-out); green raise it, red lower it.</p>
            \(body)</body></html>

            """
    }

    private func trainLabel(_ set: some ImageSource, _ index: Int) -> Int {
        if case let .classes(labels) = set.targets, labels.indices.contains(index) { return labels[index] }
        return -1
    }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
