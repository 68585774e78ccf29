import Foundation
import GatewayStore

/// Charts drawn on the server as SVG: no chart framework, no script, nothing to load. Each chart is an
/// image with a text alternative (its title and the largest value) and a tooltip per bar.
enum ConsoleCharts {
    enum LabelFormat {
        case hour, day
    }

    /// The buckets from `from` to `to`, each with its point if the series has one (roll-ups have no
    /// row for an hour without requests).
    static func filled(_ series: [UsageSeriesPoint], from: Date, to: Date, step: TimeInterval) -> [(Date, UsageMetrics?)] {
        let byStart = Dictionary(series.map { ($0.bucketStart.timeIntervalSince1970, $0.metrics) }, uniquingKeysWith: { a, _ in a })
        var start = (from.timeIntervalSince1970 / step).rounded(.up) * step
        var buckets: [(Date, UsageMetrics?)] = []
        while start < to.timeIntervalSince1970, buckets.count < 1000 {
            buckets.append((Date(timeIntervalSince1970: start), byStart[start]))
            start += step
        }
        // A bucket that started before `from` but is in the series (the first, partial one) counts too.
        if let first = series.map(\.bucketStart).min(), first.timeIntervalSince1970 < (buckets.first?.0.timeIntervalSince1970 ?? .infinity) {
            buckets.insert((first, byStart[first.timeIntervalSince1970]), at: 0)
        }
        return buckets
    }

    static func label(_ date: Date, _ format: LabelFormat) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.month, .day, .hour], from: date)
        switch format {
        case .hour: return String(format: "%02d:00", parts.hour ?? 0)
        case .day: return String(format: "%02d-%02d", parts.month ?? 0, parts.day ?? 0)
        }
    }

    static func value(_ value: Double, unit: String) -> String {
        unit == "ms" ? ConsoleFormat.milliseconds(value) : "\(ConsoleFormat.compact(Int(value.rounded()))) \(unit)"
    }

    /// The caption's peak: counts without their unit (the title names it).
    static func peak(_ value: Double, unit: String) -> String {
        unit == "ms" ? ConsoleFormat.milliseconds(value) : ConsoleFormat.compact(Int(value.rounded()))
    }

    /// A bar chart of `points` (time, value).
    static func bars(title: String, unit: String, points: [(Date, Double)], labelFormat: LabelFormat, tone: String = "")
        -> HTML
    {
        let width = 600.0
        let height = 180.0
        let top = 12.0
        let bottom = 34.0
        let plot = height - top - bottom
        let maximum = max(points.map(\.1).max() ?? 0, 0)
        let scale = maximum > 0 ? plot / maximum : 0
        let slot = points.isEmpty ? width : width / Double(points.count)
        let gap = slot > 6 ? 2.0 : 0.5
        // An id from the title (stable, unlike hash values): the caption labels the image.
        let id = "chart-" + String(title.lowercased().unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) }.map(Character.init))
        var bars: [HTML] = []
        for (index, point) in points.enumerated() {
            let barHeight = max(point.1 * scale, point.1 > 0 ? 1 : 0)
            let x = Double(index) * slot + gap / 2
            bars.append(
                """
                <rect class="bar\(tone.isEmpty ? "" : " " + tone)" x="\(fixed(x))" y="\(fixed(top + plot - barHeight))" \
                width="\(fixed(max(slot - gap, 0.5)))" height="\(fixed(barHeight))">\
                <title>\(label(point.0, labelFormat)): \(value(point.1, unit: unit))</title></rect>
                """)
        }
        var labels: [HTML] = []
        if let first = points.first, let last = points.last {
            labels.append("<text class=\"axis\" x=\"0\" y=\"\(fixed(height - 8))\">\(label(first.0, labelFormat))</text>")
            labels.append(
                "<text class=\"axis\" x=\"\(fixed(width))\" y=\"\(fixed(height - 8))\" text-anchor=\"end\">\(label(last.0, labelFormat))</text>")
        }
        let summary = maximum > 0 ? "peak \(peak(maximum, unit: unit))" : "no data"
        return """
            <figure class="chart">
            <figcaption id="\(id)">\(title) <span class="muted">(\(summary))</span></figcaption>
            <svg viewBox="0 0 \(Int(width)) \(Int(height))" role="img" aria-labelledby="\(id)">
            <line class="baseline" x1="0" x2="\(Int(width))" y1="\(fixed(top + plot))" y2="\(fixed(top + plot))"/>
            \(bars)\(labels)
            </svg>
            </figure>
            """
    }

    static func fixed(_ value: Double) -> String {
        String(format: "%.1f", value)
    }
}
