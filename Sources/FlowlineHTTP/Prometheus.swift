/// A histogram with fixed upper bounds, as Prometheus exposes it: observing is a short search and an increment.
public struct Histogram: Sendable {
    /// Upper bounds, increasing; the `+Inf` bucket is implicit.
    public let bounds: [Double]
    /// Observations per bucket, not cumulative; the last one is `+Inf`'s.
    public private(set) var counts: [UInt64]
    public private(set) var sum = 0.0
    public private(set) var count: UInt64 = 0

    public init(bounds: [Double]) {
        self.bounds = bounds
        self.counts = [UInt64](repeating: 0, count: bounds.count + 1)
    }

    public mutating func observe(_ value: Double) {
        var i = 0
        while i < bounds.count && value > bounds[i] { i += 1 }
        counts[i] &+= 1
        sum += value
        count &+= 1
    }

    /// Seconds, from 1 ms to 5 min: task waits and runs.
    public static let taskSeconds: [Double] = [
        0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
    ]
    /// Seconds, from 50 µs to 1 s: journal commits (an fdatasync is a few ms on a disk, tens of µs on tmpfs).
    public static let commitSeconds: [Double] = [
        0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
    ]
}

/// Builds the Prometheus text exposition format 0.0.4: `# HELP` and `# TYPE` once per family, then its samples.
public struct PrometheusText: Sendable {
    public private(set) var text = ""

    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public init() {
        text.reserveCapacity(8192)
    }

    /// Starts family `name` of `type` (`counter`, `gauge`, `histogram`).
    public mutating func family(_ name: String, _ type: String, help: String) {
        text += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(type)\n"
    }

    public mutating func sample(_ name: String, _ labels: [(String, String)] = [], _ value: Double) {
        text += name
        appendLabels(labels)
        text += " "
        text += Self.format(value)
        text += "\n"
    }

    public mutating func sample(_ name: String, _ labels: [(String, String)] = [], _ value: Int) {
        sample(name, labels, Double(value))
    }

    /// The `_bucket` (cumulative, `le`), `_sum` and `_count` samples of one histogram.
    public mutating func histogram(_ name: String, _ labels: [(String, String)] = [], _ h: Histogram) {
        var cumulative: UInt64 = 0
        for (i, bound) in h.bounds.enumerated() {
            cumulative += h.counts[i]
            sample(name + "_bucket", labels + [("le", Self.format(bound))], Double(cumulative))
        }
        sample(name + "_bucket", labels + [("le", "+Inf")], Double(h.count))
        sample(name + "_sum", labels, h.sum)
        sample(name + "_count", labels, Double(h.count))
    }

    private mutating func appendLabels(_ labels: [(String, String)]) {
        guard !labels.isEmpty else { return }
        text += "{"
        for (i, (name, value)) in labels.enumerated() {
            if i > 0 { text += "," }
            text += name
            text += "=\""
            text += Self.escapeLabelValue(value)
            text += "\""
        }
        text += "}"
    }

    /// A label value with `\`, `"` and line feeds escaped, as the format requires.
    public static func escapeLabelValue(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 == 0x5C || $0 == 0x22 || $0 == 0x0A }) else { return s }
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// A help text with `\` and line feeds escaped.
    public static func escapeHelp(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// Integers without a fraction, infinities and NaN as the format spells them.
    public static func format(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }
}
