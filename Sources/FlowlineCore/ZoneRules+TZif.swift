extension ZoneRules {
    /// The rules of a TZif file (RFC 8536, version 2 or later): its 64-bit transitions, extended past the last one
    /// by the footer's POSIX TZ rule up to the year 2200. Nil if the bytes are not such a file. Pure: the shell reads
    /// the file (from `/usr/share/zoneinfo`).
    public init?(tzif bytes: [UInt8], name: String) {
        func u32(_ at: Int) -> UInt32? {
            guard at >= 0, at + 4 <= bytes.count else { return nil }
            return bytes[at..<at + 4].reduce(0) { $0 << 8 | UInt32($1) }
        }
        func i64(_ at: Int) -> Int64? {
            guard at >= 0, at + 8 <= bytes.count else { return nil }
            return Int64(bitPattern: bytes[at..<at + 8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        }
        func counts(_ at: Int) -> [Int]? {
            guard bytes.count >= at + 44, bytes[at..<at + 4].elementsEqual("TZif".utf8) else { return nil }
            var c: [Int] = []
            for i in 0..<6 {
                guard let v = u32(at + 20 + 4 * i) else { return nil }
                c.append(Int(v))
            }
            return c  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
        }
        guard let v1 = counts(0), bytes[4] >= UInt8(ascii: "2") else { return nil }
        let v1Size = v1[3] * 5 + v1[4] * 6 + v1[5] + v1[2] * 8 + v1[1] + v1[0]
        let header = 44 + v1Size
        guard let c = counts(header) else { return nil }
        let (leapCount, timeCount, typeCount, charCount) = (c[2], c[3], c[4], c[5])
        let timesAt = header + 44
        let indexesAt = timesAt + timeCount * 8
        let typesAt = indexesAt + timeCount
        let footerAt = typesAt + typeCount * 6 + charCount + leapCount * 12 + c[1] + c[0]
        guard typeCount > 0, footerAt <= bytes.count else { return nil }
        var typeOffsets: [Int32] = []
        for i in 0..<typeCount {
            guard let raw = u32(typesAt + 6 * i) else { return nil }
            typeOffsets.append(Int32(bitPattern: raw))
        }
        var changes: [(at: Int64, offset: Int32)] = []
        for i in 0..<timeCount {
            guard let at = i64(timesAt + 8 * i) else { return nil }
            let type = Int(bytes[indexesAt + i])
            guard type < typeCount else { return nil }
            changes.append((at, typeOffsets[type]))
        }
        // RFC 8536 §3.2: the first type (0) is the one in force before the first transition.
        let initial = typeOffsets[0]
        var footer = ""
        if footerAt < bytes.count, bytes[footerAt] == UInt8(ascii: "\n") {
            let rest = bytes[(footerAt + 1)...]
            if let end = rest.firstIndex(of: UInt8(ascii: "\n")) {
                footer = String(decoding: rest[rest.startIndex..<end], as: UTF8.self)
            }
        }
        if let rule = PosixTZ(footer) {
            let lastAt = changes.last?.at ?? Int64.min
            let firstYear = changes.last.map { Civil.date(fromDays: Civil.floorDiv($0.at, 86400)).year } ?? 1970
            for year in firstYear...2200 {
                for change in rule.changes(in: year) where change.at > lastAt {
                    changes.append(change)
                }
            }
        }
        self.init(name: name, initialOffset: initial, transitions: changes)
    }
}

/// A POSIX TZ string of the form a TZif footer carries (`EST5EDT,M3.2.0,M11.1.0`): only the `Mm.w.d` rules.
struct PosixTZ {
    var standard: Int32
    var daylight: Int32
    var start: (month: Int64, week: Int64, day: Int64, time: Int64)
    var end: (month: Int64, week: Int64, day: Int64, time: Int64)

    init?(_ text: String) {
        var s = Substring(text)
        func name() -> Bool {
            if s.first == "<" {
                guard let close = s.firstIndex(of: ">") else { return false }
                s = s[s.index(after: close)...]
                return true
            }
            let n = s.prefix { $0.isLetter }
            guard n.count >= 3 else { return false }
            s = s.dropFirst(n.count)
            return true
        }
        func time() -> Int64? {
            var sign: Int64 = 1
            if s.first == "+" || s.first == "-" {
                sign = s.first == "-" ? -1 : 1
                s = s.dropFirst()
            }
            var parts: [Int64] = []
            while true {
                let digits = s.prefix { $0.isNumber }
                guard let v = Int64(digits) else { return nil }
                parts.append(v)
                s = s.dropFirst(digits.count)
                guard s.first == ":", parts.count < 3 else { break }
                s = s.dropFirst()
            }
            while parts.count < 3 { parts.append(0) }
            return sign * (parts[0] * 3600 + parts[1] * 60 + parts[2])
        }
        func rule() -> (Int64, Int64, Int64, Int64)? {
            guard s.first == "M" else { return nil }
            s = s.dropFirst()
            var numbers: [Int64] = []
            for i in 0..<3 {
                let digits = s.prefix { $0.isNumber }
                guard let v = Int64(digits) else { return nil }
                numbers.append(v)
                s = s.dropFirst(digits.count)
                if i < 2 {
                    guard s.first == "." else { return nil }
                    s = s.dropFirst()
                }
            }
            var at: Int64 = 7200
            if s.first == "/" {
                s = s.dropFirst()
                guard let t = time() else { return nil }
                at = t
            }
            return (numbers[0], numbers[1], numbers[2], at)
        }
        guard name(), let std = time() else { return nil }
        standard = Int32(-std)
        guard !s.isEmpty, name() else { return nil }  // no daylight time: the transitions say it all
        daylight = standard + 3600
        if s.first != "," {
            guard let dst = time() else { return nil }
            daylight = Int32(-dst)
        }
        guard s.first == "," else { return nil }
        s = s.dropFirst()
        guard let a = rule(), s.first == "," else { return nil }
        s = s.dropFirst()
        guard let b = rule(), s.isEmpty else { return nil }
        start = a
        end = b
    }

    /// The two changes of `year`, in time order.
    func changes(in year: Int64) -> [(at: Int64, offset: Int32)] {
        func day(_ r: (month: Int64, week: Int64, day: Int64, time: Int64)) -> Int64 {
            let first = Civil.days(year: year, month: r.month, day: 1)
            let weekdayOfFirst = Civil.floorMod(first + 4, 7)
            var d = first + Civil.floorMod(r.day - weekdayOfFirst, 7) + (r.week - 1) * 7
            if r.week == 5 {
                let nextMonth =
                    r.month == 12
                    ? Civil.days(year: year + 1, month: 1, day: 1)
                    : Civil.days(year: year, month: r.month + 1, day: 1)
                while d >= nextMonth { d -= 7 }
            }
            return d
        }
        // The start is in local standard time, the end in local daylight time.
        let on = day(start) * 86400 + start.time - Int64(standard)
        let off = day(end) * 86400 + end.time - Int64(daylight)
        return [(on, daylight), (off, standard)].sorted { $0.0 < $1.0 }
    }
}
