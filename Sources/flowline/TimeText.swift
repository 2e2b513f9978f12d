import Flowline
import FlowlineCore
import FlowlineProtocol
import Foundation

/// Milliseconds since the Unix epoch, UTC: how the tool reasons about the record's RFC 3339 times.
typealias Millis = Int64

/// Parsing and printing of the record's times and of durations, for people.
enum TimeText {
    /// `2026-11-22T10:00:00.000Z` (or with an offset, or without fraction) as milliseconds; `nil` if malformed.
    static func parse(_ text: String) -> Millis? {
        Timestamp.parse(text).map { Millis(($0 * 1000).rounded()) }
    }

    /// `2026-11-22 10:00:00.123`, UTC.
    static func dateTime(_ ms: Millis) -> String { "\(date(ms)) \(clock(ms))" }

    /// `2026-11-22`, UTC.
    static func date(_ ms: Millis) -> String { String(Instant(milliseconds: ms).rfc3339.prefix(10)) }

    /// `10:00:00.123`, UTC.
    static func clock(_ ms: Millis) -> String { String(Instant(milliseconds: ms).rfc3339.dropFirst(11).prefix(12)) }

    /// A span for people: `0.153s`, `12.040s`, `2m05.3s`, `3h07m`, `2d04h`.
    static func duration(_ ms: Millis) -> String {
        let ms = max(0, ms)
        if ms < 60_000 { return "\(ms / 1000).\(pad(ms % 1000, 3))s" }
        if ms < 3_600_000 { return "\(ms / 60_000)m\(pad(ms / 1000 % 60, 2)).\(ms % 1000 / 100)s" }
        if ms < 86_400_000 { return "\(ms / 3_600_000)h\(pad(ms / 60_000 % 60, 2))m" }
        return "\(ms / 86_400_000)d\(pad(ms / 3_600_000 % 24, 2))h"
    }

    /// Seconds with milliseconds, as simpleflow's profile prints them: `43.776`.
    static func seconds(_ ms: Millis) -> String {
        let ms = max(0, ms)
        return "\(ms / 1000).\(pad(ms % 1000, 3))"
    }

    /// The wall clock now.
    static func now() -> Millis { Millis((Date().timeIntervalSince1970 * 1000).rounded()) }

    // MARK: - Private

    private static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}
