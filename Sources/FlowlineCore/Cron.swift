/// A 5-field cron expression (minute hour day-of-month month day-of-week), as Vixie cron reads it: ranges
/// (`1-5`), lists (`1,3`), steps (`*/15`, `10-50/20`), month names `JAN`–`DEC`, day names `SUN`–`SAT`, 0 and 7
/// both Sunday, and the names `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`.
/// When both day fields are restricted (neither starts with `*`), a day matches if either matches.
public struct CronExpression: Hashable, Sendable {
    /// Bit n set: value n matches.
    var minutes: UInt64 = 0
    var hours: UInt32 = 0
    var days: UInt32 = 0
    var months: UInt16 = 0
    var weekdays: UInt8 = 0
    var daysRestricted = false
    var weekdaysRestricted = false

    private static let aliases: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]
    private static let monthNames = [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ]
    private static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    /// Parses `text`; the error says which field is wrong and why.
    public init(parsing text: String) throws(CronError) {
        var source = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
        if source.hasPrefix("@") {
            guard let expanded = Self.aliases[source.lowercased()] else { throw CronError("unknown name \(source)") }
            source = expanded
        }
        let fields = source.split(separator: " ").map(String.init)
        guard fields.count == 5 else { throw CronError("expected 5 fields, got \(fields.count)") }
        minutes = try Self.field(fields[0], "minute", 0...59, names: [], base: 0)
        hours = UInt32(try Self.field(fields[1], "hour", 0...23, names: [], base: 0))
        days = UInt32(try Self.field(fields[2], "day of month", 1...31, names: [], base: 0))
        months = UInt16(try Self.field(fields[3], "month", 1...12, names: Self.monthNames, base: 1))
        var week = try Self.field(fields[4], "day of week", 0...7, names: Self.dayNames, base: 0)
        if week & (1 << 7) != 0 { week = (week | 1) & 0x7F }
        weekdays = UInt8(week)
        daysRestricted = !fields[2].hasPrefix("*")
        weekdaysRestricted = !fields[4].hasPrefix("*")
    }

    private static func field(
        _ text: String,
        _ name: String,
        _ range: ClosedRange<Int>,
        names: [String],
        base: Int
    ) throws(CronError) -> UInt64 {
        func value(_ part: Substring) throws(CronError) -> Int {
            if let n = Int(part), range.contains(n) { return n }
            if let i = names.firstIndex(of: part.uppercased()) { return i + base }
            throw CronError("\(name): \"\(part)\" is not in \(range.lowerBound)-\(range.upperBound)")
        }
        var bits: UInt64 = 0
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = item.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2, !pieces[0].isEmpty else { throw CronError("\(name): bad item \"\(item)\"") }
            var step = 1
            if pieces.count == 2 {
                guard let s = Int(pieces[1]), s > 0 else { throw CronError("\(name): bad step \"\(pieces[1])\"") }
                step = s
            }
            var low: Int
            var high: Int
            if pieces[0] == "*" {
                (low, high) = (range.lowerBound, range.upperBound)
            } else {
                let ends = pieces[0].split(separator: "-", omittingEmptySubsequences: false)
                guard ends.count <= 2 else { throw CronError("\(name): bad range \"\(pieces[0])\"") }
                low = try value(ends[0])
                // `5/10` means `5-MAX/10`, as Vixie cron and its successors read it.
                high = ends.count == 2 ? try value(ends[1]) : (pieces.count == 2 ? range.upperBound : low)
                guard low <= high else { throw CronError("\(name): range \"\(pieces[0])\" runs backwards") }
            }
            for n in stride(from: low, through: high, by: step) { bits |= 1 << UInt64(n) }
        }
        return bits
    }

    func matchesDay(year: Int64, month: Int64, day: Int64, weekday: Int64) -> Bool {
        guard months & (1 << UInt16(month)) != 0 else { return false }
        let dom = days & (1 << UInt32(day)) != 0
        let dow = weekdays & (1 << UInt8(weekday)) != 0
        if daysRestricted && weekdaysRestricted { return dom || dow }
        return dom && dow
    }

    /// The first fire strictly after `instant`, in `zone`, or nil if there is none within eight years (`30 2 31 2 *`).
    /// A local time the zone skips (a daylight-saving gap) fires at the first instant after the gap; one it repeats
    /// fires once, at its first occurrence.
    public func nextFire(after instant: Instant, in zone: ZoneRules) -> Instant? {
        let after = instant.milliseconds >= 0 ? instant.milliseconds / 1000 : (instant.milliseconds - 999) / 1000
        let localNow = after + Int64(zone.offset(at: after))
        // Local candidates start at the next whole minute of local time.
        var minuteStart = (localNow >= 0 ? localNow / 60 : (localNow - 59) / 60) * 60 + 60
        var dayNumber = Civil.floorDiv(minuteStart, 86400)
        var firstMinuteOfDay = Int(minuteStart - dayNumber * 86400) / 60
        let lastDay = dayNumber + 366 * 8 + 2
        while dayNumber <= lastDay {
            let (y, m, d) = Civil.date(fromDays: dayNumber)
            let weekday = Civil.floorMod(dayNumber + 4, 7)  // 1970-01-01 was a Thursday
            if matchesDay(year: y, month: m, day: d, weekday: weekday) {
                for minuteOfDay in firstMinuteOfDay..<1440 {
                    let h = minuteOfDay / 60
                    let mi = minuteOfDay % 60
                    guard hours & (1 << UInt32(h)) != 0 else { continue }
                    guard minutes & (1 << UInt64(mi)) != 0 else { continue }
                    let local = dayNumber * 86400 + Int64(minuteOfDay) * 60
                    if let fire = zone.firstInstant(atLocal: local), fire > after {
                        return Instant(milliseconds: fire * 1000)
                    }
                }
            }
            dayNumber += 1
            firstMinuteOfDay = 0
            minuteStart = dayNumber * 86400
        }
        return nil
    }
}

/// A cron expression that does not parse.
public struct CronError: Error, Hashable, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// A time zone's rules as a value: the UTC offset before the first change, and each change with its instant (seconds
/// since the epoch, ascending). The shell builds it from the tz database; the core never reads files.
public struct ZoneRules: Hashable, Sendable {
    public var name: String
    public var initialOffset: Int32
    public var transitions: [Int64]
    public var offsets: [Int32]

    public init(name: String, initialOffset: Int32, transitions: [(at: Int64, offset: Int32)]) {
        self.name = name
        self.initialOffset = initialOffset
        self.transitions = transitions.map(\.at)
        self.offsets = transitions.map(\.offset)
    }

    public static let utc = ZoneRules(name: "UTC", initialOffset: 0, transitions: [])

    /// The offset in force at `seconds` since the epoch.
    public func offset(at seconds: Int64) -> Int32 {
        // The last transition at or before `seconds`.
        var low = 0
        var high = transitions.count
        while low < high {
            let mid = (low + high) / 2
            if transitions[mid] <= seconds { low = mid + 1 } else { high = mid }
        }
        return low == 0 ? initialOffset : offsets[low - 1]
    }

    /// The earliest instant whose local time is `local` (seconds of local time since the epoch); for a local time
    /// in a gap, the instant the gap ends. Offsets change at most once within a day on either side.
    func firstInstant(atLocal local: Int64) -> Int64? {
        let before = offset(at: local - 86400 - 50400)
        let after = offset(at: local + 86400 + 50400)
        var found: [Int64] = []
        for o in [before, after] {
            let u = local - Int64(o)
            if offset(at: u) == o { found.append(u) }
        }
        if let first = found.min() { return first }
        // A gap: the first transition after the last instant that was still before it.
        let edge = local - Int64(before)
        var low = 0
        var high = transitions.count
        while low < high {
            let mid = (low + high) / 2
            if transitions[mid] <= edge { low = mid + 1 } else { high = mid }
        }
        return low > 0 ? transitions[low - 1] : nil
    }
}

/// Proleptic Gregorian dates from days since 1970-01-01 and back (Howard Hinnant's algorithms).
enum Civil {
    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : (a - b + 1) / b }
    static func floorMod(_ a: Int64, _ b: Int64) -> Int64 { a - floorDiv(a, b) * b }

    static func date(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
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

    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

extension Instant {
    /// RFC 3339 in UTC, whole seconds (`2026-12-08T09:00:00Z`), or with milliseconds: a schedule's run ids.
    public func utcText(milliseconds withMillis: Bool) -> String {
        let ms = milliseconds
        let days = Civil.floorDiv(ms, 86_400_000)
        let inDay = ms - days * 86_400_000
        let (y, m, d) = Civil.date(fromDays: days)
        func pad(_ v: Int64, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        var text = "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(inDay / 3_600_000, 2)):"
        text += "\(pad(inDay / 60_000 % 60, 2)):\(pad(inDay / 1000 % 60, 2))"
        if withMillis { text += "." + pad(inDay % 1000, 3) }
        return text + "Z"
    }
}

extension Instant {
    /// The instant of a UTC civil time (proleptic Gregorian calendar).
    public static func utc(year: Int64, month: Int64, day: Int64, seconds: Int64, milliseconds ms: Int64 = 0) -> Instant
    {
        Instant(milliseconds: (Civil.days(year: year, month: month, day: day) * 86400 + seconds) * 1000 + ms)
    }
}
