public import FlowlineCore

extension Instant {
    /// RFC 3339 in UTC with milliseconds: `2026-11-22T10:00:00.000Z`.
    public var rfc3339: String { String(decoding: rfc3339Bytes(quoted: false), as: UTF8.self) }

    /// The RFC 3339 text as bytes, optionally inside JSON quotes. Years outside 0...9999 are clamped.
    func rfc3339Bytes(quoted: Bool) -> [UInt8] {
        [UInt8](capacity: 26) { out in writeRFC3339(quoted: quoted, into: &out) }
    }

    /// Appends the RFC 3339 text digit by digit (records carry several times per task, so this is on the path of
    /// every large answer), optionally inside JSON quotes; `out` must have room for 26 bytes.
    func writeRFC3339(quoted: Bool, into out: inout OutputSpan<UInt8>) {
        let ms = milliseconds
        let days = ms >= 0 ? ms / 86_400_000 : (ms - 86_399_999) / 86_400_000
        let inDay = ms - days * 86_400_000
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = min(max(yoe + era * 400 + (month <= 2 ? 1 : 0), 0), 9999)
        if quoted { out.append(UInt8(ascii: "\"")) }
        // Two digits at a time, by constant divisors (a multiply each) rather than a loop over powers of ten.
        func two(_ value: Int64) {
            out.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value / 10))
            out.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value % 10))
        }
        two(year / 100)
        two(year % 100)
        out.append(UInt8(ascii: "-"))
        two(month)
        out.append(UInt8(ascii: "-"))
        two(day)
        out.append(UInt8(ascii: "T"))
        two(inDay / 3_600_000)
        out.append(UInt8(ascii: ":"))
        two(inDay / 60_000 % 60)
        out.append(UInt8(ascii: ":"))
        two(inDay / 1000 % 60)
        out.append(UInt8(ascii: "."))
        let millis = inDay % 1000
        out.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: millis / 100))
        two(millis % 100)
        out.append(UInt8(ascii: "Z"))
        if quoted { out.append(UInt8(ascii: "\"")) }
    }
}

extension JSONWriter {
    /// An instant as an RFC 3339 string, or null.
    public mutating func time(_ instant: Instant?) {
        guard let instant else { return null() }
        appendValue(capacity: 26) { instant.writeRFC3339(quoted: true, into: &$0) }
    }

    /// Raw JSON spliced in, or null.
    public mutating func raw(_ json: RawJSON?) {
        if let json { raw(json.bytes) } else { null() }
    }
}
