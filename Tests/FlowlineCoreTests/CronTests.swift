import FlowlineCore
import Foundation
import Testing

/// Cron parsing and next-fire computation, in UTC and across daylight-saving changes of real zones (read from the
/// system's tz database, as the daemon reads them).
struct CronTests {
    static func zone(_ name: String) throws -> ZoneRules {
        let data = try #require(FileManager.default.contents(atPath: "/usr/share/zoneinfo/" + name))
        return try #require(ZoneRules(tzif: [UInt8](data), name: name))
    }

    static func instant(_ text: String) -> Instant {
        // `YYYY-MM-DDTHH:MM:SSZ`
        let f = ISO8601DateFormatter()
        return Instant(milliseconds: Int64(f.date(from: text)!.timeIntervalSince1970 * 1000))
    }

    /// The next `count` fires after `start`, as UTC text.
    static func fires(_ cron: String, _ zone: ZoneRules, after start: String, count: Int = 4) throws -> [String] {
        let expression = try CronExpression(parsing: cron)
        var at = instant(start)
        var out: [String] = []
        for _ in 0..<count {
            guard let next = expression.nextFire(after: at, in: zone) else { break }
            out.append(next.utcText(milliseconds: false))
            at = next
        }
        return out
    }

    @Test(arguments: [
        ("*/15 * * * *", "2026-01-01T00:07:00Z", ["2026-01-01T00:15:00Z", "2026-01-01T00:30:00Z"]),
        ("0 9 * * MON-FRI", "2026-12-04T10:00:00Z", ["2026-12-07T09:00:00Z", "2026-12-08T09:00:00Z"]),
        ("30 4 1,15 * *", "2026-02-01T05:00:00Z", ["2026-02-15T04:30:00Z", "2026-03-01T04:30:00Z"]),
        // Both day fields restricted: either matches (the 13th, or any Friday).
        ("0 0 13 * 5", "2026-02-01T00:00:00Z", ["2026-02-06T00:00:00Z", "2026-02-13T00:00:00Z"]),
        ("0 0 * * 7", "2026-12-01T00:00:00Z", ["2026-12-06T00:00:00Z", "2026-12-13T00:00:00Z"]),
        ("0 0 * * 0", "2026-12-01T00:00:00Z", ["2026-12-06T00:00:00Z", "2026-12-13T00:00:00Z"]),
        ("0 12 * JAN,jul SUN", "2026-06-30T00:00:00Z", ["2026-07-05T12:00:00Z", "2026-07-12T12:00:00Z"]),
        ("10-50/20 * * * *", "2026-01-01T00:00:00Z", ["2026-01-01T00:10:00Z", "2026-01-01T00:30:00Z"]),
        ("5/20 3 * * *", "2026-01-01T00:00:00Z", ["2026-01-01T03:05:00Z", "2026-01-01T03:25:00Z"]),
        ("@hourly", "2026-01-01T00:00:00Z", ["2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z"]),
        ("@daily", "2026-01-01T00:00:00Z", ["2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z"]),
        ("@midnight", "2026-01-01T00:00:00Z", ["2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z"]),
        ("@weekly", "2026-12-08T00:00:00Z", ["2026-12-13T00:00:00Z", "2026-12-20T00:00:00Z"]),
        ("@monthly", "2026-12-08T00:00:00Z", ["2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z"]),
        ("@yearly", "2026-12-08T00:00:00Z", ["2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z"]),
        ("@annually", "2026-12-08T00:00:00Z", ["2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z"]),
        ("0 0 29 2 *", "2026-01-01T00:00:00Z", ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"]),
        ("0 0 31 2 *", "2026-01-01T00:00:00Z", []),
    ])
    func utcFires(cron: String, after: String, expected: [String]) throws {
        #expect(try Self.fires(cron, .utc, after: after, count: 2) == expected)
    }

    @Test(arguments: [
        "", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8",
        "*/0 * * * *", "5-1 * * * *", "@often", "a * * * *", "1,,2 * * * *", "* * * FOO *",
    ])
    func badExpressionsAreRefused(cron: String) {
        #expect(throws: CronError.self) { try CronExpression(parsing: cron) }
    }

    @Test func aFireInBerlinsSkippedHourRunsAtTheEndOfTheGap() throws {
        let berlin = try Self.zone("Europe/Berlin")
        // 2026-03-29: 02:00 CET becomes 03:00 CEST (01:00 UTC). 02:30 does not exist: it runs at 03:00 local.
        #expect(
            try Self.fires("30 2 * * *", berlin, after: "2026-03-27T12:00:00Z", count: 3) == [
                "2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z",
            ]
        )
        // Every minute of the gap maps to one instant: it runs once there.
        #expect(
            try Self.fires("*/20 2 * * *", berlin, after: "2026-03-29T00:30:00Z", count: 2) == [
                "2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z",
            ]
        )
    }

    @Test func aFireInBerlinsRepeatedHourRunsOnceAtItsFirstOccurrence() throws {
        let berlin = try Self.zone("Europe/Berlin")
        // 2026-10-25: 03:00 CEST becomes 02:00 CET (01:00 UTC); 02:30 comes twice (00:30 and 01:30 UTC).
        #expect(
            try Self.fires("30 2 * * *", berlin, after: "2026-10-24T12:00:00Z", count: 2) == [
                "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z",
            ]
        )
        // Hourly fires go on hourly in UTC; the repeated local 02:00 does not fire a second time.
        #expect(
            try Self.fires("0 * * * *", berlin, after: "2026-10-24T23:30:00Z", count: 3) == [
                "2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z", "2026-10-25T03:00:00Z",
            ]
        )
        // From inside the second occurrence, the repeated times are not fired again.
        #expect(
            try Self.fires("45 2 * * *", berlin, after: "2026-10-25T01:10:00Z", count: 1) == ["2026-10-26T01:45:00Z"]
        )
    }

    @Test func newYorkSpringsForwardAndFallsBack() throws {
        let newYork = try Self.zone("America/New_York")
        // 2026-03-08 02:00 EST -> 03:00 EDT (07:00 UTC).
        #expect(
            try Self.fires("15 2 * * *", newYork, after: "2026-03-06T12:00:00Z", count: 3) == [
                "2026-03-07T07:15:00Z", "2026-03-08T07:00:00Z", "2026-03-09T06:15:00Z",
            ]
        )
        // 2026-11-01 02:00 EDT -> 01:00 EST (06:00 UTC); 01:30 comes at 05:30 and 06:30 UTC.
        #expect(
            try Self.fires("30 1 * * *", newYork, after: "2026-10-31T12:00:00Z", count: 2) == [
                "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z",
            ]
        )
        // Past the fat files' last transition (2037) the footer rule keeps the changes going.
        #expect(
            try Self.fires("0 12 * * *", newYork, after: "2045-07-04T00:00:00Z", count: 1) == ["2045-07-04T16:00:00Z"]
        )
        #expect(
            try Self.fires("0 12 * * *", newYork, after: "2045-12-24T00:00:00Z", count: 1) == ["2045-12-24T17:00:00Z"]
        )
    }

    @Test func lordHoweShiftsByHalfAnHour() throws {
        let lordHowe = try Self.zone("Australia/Lord_Howe")
        // 2026-10-04 02:00 +10:30 becomes 02:30 +11 (15:30 UTC the day before): 02:15 runs at 02:30 local.
        #expect(
            try Self.fires("15 2 * * *", lordHowe, after: "2026-10-02T12:00:00Z", count: 2) == [
                "2026-10-02T15:45:00Z", "2026-10-03T15:30:00Z",
            ]
        )
        // 2026-04-05 02:00 +11 becomes 01:30 +10:30 (15:00 UTC the day before): 01:45 runs once, the first time.
        #expect(
            try Self.fires("45 1 * * *", lordHowe, after: "2026-04-03T12:00:00Z", count: 2) == [
                "2026-04-03T14:45:00Z", "2026-04-04T14:45:00Z",
            ]
        )
    }

    @Test func utcTextOfInstants() {
        #expect(Self.instant("2026-12-08T01:02:03Z").utcText(milliseconds: false) == "2026-12-08T01:02:03Z")
        #expect(
            Instant(milliseconds: Self.instant("2026-12-08T01:02:03Z").milliseconds + 45).utcText(milliseconds: true)
                == "2026-12-08T01:02:03.045Z"
        )
    }
}
