import FlowlineCore
import FlowlineProtocol
import Testing

struct TimestampTests {
    static let cases: [(Int64, String)] = [
        (0, "1970-01-01T00:00:00.000Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (1_795_418_768_123, "2026-11-23T07:26:08.123Z"),
        (1_709_210_096_789, "2024-02-29T12:34:56.789Z"),
        (951_782_400_000, "2000-02-29T00:00:00.000Z"),
        (1_000_000_007, "1970-01-12T13:46:40.007Z"),
        (-62_135_596_800_000, "0001-01-01T00:00:00.000Z"),
        (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
    ]

    @Test("instants print as RFC 3339 in UTC with milliseconds", arguments: cases)
    func printsRFC3339(milliseconds: Int64, text: String) throws {
        #expect(Instant(milliseconds: milliseconds).rfc3339 == text)
        var writer = JSONWriter()
        writer.beginArray()
        writer.time(Instant(milliseconds: milliseconds))
        writer.time(nil)
        writer.endArray()
        #expect(try JSONParser.parse(writer.bytes) == .array([.string(text), .null]))
    }
}
