import Foundation

/// Milliseconds since the Unix epoch, UTC: how the tool reasons about the record's RFC 3339 times.
typealias Millis = Int64

/// Parsing and printing of the record's times and of durations, for people.
enum TimeText {
    /// `2026-11-22T10:00:00.000Z` (or with `+00:00`, or without fraction) as milliseconds; `nil` if malformed.
    static func parse(_ text: String) -> Millis? {
        let chars = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int64? {
            guard range.upperBound <= chars.count else { return nil }
            var value: Int64 = 0
            for c in chars[range] {
                guard c >= 48 && c <= 57 else { return nil }
                value = value * 10 + Int64(c - 48)
            }
            return value
        }
        guard chars.count >= 20, let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19)
        else { return nil }
        var index = 19
        var fraction: Int64 = 0
        if chars[index] == UInt8(ascii: ".") {
            var scale: Int64 = 100
            index += 1
            while index < chars.count, chars[index] >= 48, chars[index] <= 57 {
                fraction += Int64(chars[index] - 48) * scale
                scale /= 10
                index += 1
            }
        }
        guard index < chars.count else { return nil }
        var offset: Int64 = 0
        if chars[index] != UInt8(ascii: "Z") {
            guard let h = number(index + 1..<index + 3), let m = number(index + 4..<index + 6) else { return nil }
            offset = (h * 60 + m) * 60_000 * (chars[index] == UInt8(ascii: "-") ? -1 : 1)
        }
        let days = daysFromCivil(year: year, month: month, day: day)
        return ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + fraction - offset
    }

    /// `2026-11-22 10:00:00.123`, UTC.
    static func dateTime(_ ms: Millis) -> String { "\(date(ms)) \(clock(ms))" }

    /// `2026-11-22`, UTC.
    static func date(_ ms: Millis) -> String {
        let (y, m, d) = civil(fromDays: floorDiv(ms, 86_400_000))
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }

    /// `10:00:00.123`, UTC.
    static func clock(_ ms: Millis) -> String {
        let inDay = ms - floorDiv(ms, 86_400_000) * 86_400_000
        return "\(pad(inDay / 3_600_000, 2)):\(pad(inDay / 60_000 % 60, 2)):\(pad(inDay / 1000 % 60, 2))."
            + pad(inDay % 1000, 3)
    }

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

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : (a - b + 1) / b }

    // Howard Hinnant's days_from_civil and civil_from_days.
    private static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
