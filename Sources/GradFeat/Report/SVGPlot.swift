import Foundation

/// A small line plot rendered as standalone SVG (no dependencies): axes with ticks, one coloured line per series,
/// and a legend.
public struct SVGPlot: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [(name: String, points: [(Double, Double)])]

    public init(title: String, xLabel: String, yLabel: String, series: [(String, [(Double, Double)])]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series.map { (name: $0.0, points: $0.1) }
    }

    static let colours = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]

    public func render(width: Double = 640, height: Double = 400) -> String {
        let (left, right, top, bottom) = (64.0, 150.0, 40.0, 50.0)
        let all = series.flatMap(\.points)
        let xs = all.map(\.0), ys = all.map(\.1)
        var (x0, x1) = (xs.min() ?? 0, xs.max() ?? 1)
        var (y0, y1) = (ys.min() ?? 0, ys.max() ?? 1)
        if x1 <= x0 { x1 = x0 + 1 }
        if y1 <= y0 { (y0, y1) = (y0 - 1, y1 + 1) }
        let pad = (y1 - y0) * 0.08
        (y0, y1) = (y0 - pad, y1 + pad)
        if xs.count == 1 { x0 = 0 }
        let plotW = width - left - right, plotH = height - top - bottom
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * plotW }
        func py(_ y: Double) -> Double { top + (1 - (y - y0) / (y1 - y0)) * plotH }
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        }
        var svg = [
            String(
                format:
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" font-size=\"12\">",
                width, height),
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
            String(
                format: "<text x=\"%.1f\" y=\"22\" font-size=\"15\" text-anchor=\"middle\">%@</text>", left + plotW / 2,
                esc(title)),
        ]
        for i in 0...5 {
            let y = y0 + (y1 - y0) * Double(i) / 5, x = x0 + (x1 - x0) * Double(i) / 5
            svg.append(
                String(
                    format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>", left, py(y),
                    left + plotW, py(y)))
            svg.append(
                String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.1f</text>", left - 6, py(y) + 4, y))
            svg.append(
                String(
                    format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f</text>", px(x), top + plotH + 18, x
                ))
        }
        svg.append(
            String(
                format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#333\"/>",
                left, top, plotW, plotH))
        svg.append(
            String(
                format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%@</text>", left + plotW / 2, height - 12,
                esc(xLabel)))
        svg.append(
            String(
                format: "<text transform=\"translate(16 %.1f) rotate(-90)\" text-anchor=\"middle\">%@</text>",
                top + plotH / 2, esc(yLabel)))
        for (i, s) in series.enumerated() {
            let colour = Self.colours[i % Self.colours.count]
            let path = s.points.map { String(format: "%.1f,%.1f", px($0.0), py($0.1)) }.joined(separator: " ")
            if s.points.count > 1 {
                svg.append("<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" points=\"\(path)\"/>")
            }
            for p in s.points {
                svg.append(
                    String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%@\"/>", px(p.0), py(p.1), colour))
            }
            let ly = top + 14 + Double(i) * 20
            svg.append(
                String(
                    format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%@\" stroke-width=\"3\"/>",
                    left + plotW + 12, ly, left + plotW + 32, ly, colour))
            svg.append(String(format: "<text x=\"%.1f\" y=\"%.1f\">%@</text>", left + plotW + 38, ly + 4, esc(s.name)))
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }
}
