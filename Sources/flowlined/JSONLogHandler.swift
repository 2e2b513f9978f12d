import Foundation
import Logging

/// `--log-format json`: one JSON object per line on stderr, with the fields of the text format (`timestamp`,
/// `level`, `label`, `source`, `message`) and each metadata pair as a member of its own (a key that would clash with
/// one of those gets a `metadata.` prefix).
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String) {
        self.label = label
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
        if let more = event.metadata { all.merge(more) { _, new in new } }
        var line = "{\"timestamp\":"
        Self.append(Date.now.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true)), to: &line)
        line += ",\"level\":"
        Self.append(event.level.rawValue, to: &line)
        line += ",\"label\":"
        Self.append(label, to: &line)
        line += ",\"source\":"
        Self.append(event.source, to: &line)
        line += ",\"message\":"
        Self.append(event.message.description, to: &line)
        let reserved: Set<String> = ["timestamp", "level", "label", "source", "message"]
        for key in all.keys.sorted() {
            line += ","
            Self.append(reserved.contains(key) ? "metadata.\(key)" : key, to: &line)
            line += ":"
            Self.append(all[key]!.description, to: &line)
        }
        line += "}\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// `s` as a JSON string.
    static func append(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
