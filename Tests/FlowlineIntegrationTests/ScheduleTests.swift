import FlowlineProtocol
import FlowlineTestSupport
import Foundation
import Testing

/// Schedules and `start_at` against the real daemon (SPEC §11). The daemon's wall clock is set through the test hook
/// so that a minute boundary is a second or two away, and moved forward to stand for downtime.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ScheduleIntegrationTests {
    final class ClockedDaemon {
        let directory: TemporaryDirectory
        let offsetFile: String
        var daemon: DaemonProcess!

        /// A daemon whose wall clock reads `lead` milliseconds before a whole minute.
        init(lead: Int64) throws {
            directory = try TemporaryDirectory()
            offsetFile = directory.path + "/wall-clock-offset"
            try set(minuteIn: lead)
            daemon = try Self.start(directory.path + "/data", offsetFile: offsetFile)
        }

        static func start(_ data: String, offsetFile: String) throws -> DaemonProcess {
            try DaemonProcess(data: data, environment: ["FLOWLINE_TEST_WALL_CLOCK_OFFSET_FILE": offsetFile])
        }

        var offset: Int64 = 0

        static func realNow() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

        /// The daemon's wall clock now.
        var now: Int64 { Self.realNow() + offset }

        /// Moves the daemon's clock so that the next whole minute is `lead` ms away.
        func set(minuteIn lead: Int64) throws {
            let real = Self.realNow()
            let target = (real / 60_000 + 10) * 60_000 - lead
            try move(by: target - real - offset)
        }

        func move(by ms: Int64) throws {
            offset += ms
            try String(offset).write(toFile: offsetFile, atomically: true, encoding: .utf8)
        }

        /// The next whole minute of the daemon's clock, as RFC 3339 in whole seconds.
        var nextMinute: String { Self.text((now / 60_000 + 1) * 60_000) }

        static func text(_ ms: Int64) -> String {
            let f = ISO8601DateFormatter()
            return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
        }

        func crashAndRestart() throws {
            daemon.crash()
            daemon = try Self.start(directory.path + "/data", offsetFile: offsetFile)
        }

        func stop() { _ = daemon.stop() }

        func restart() throws { daemon = try Self.start(directory.path + "/data", offsetFile: offsetFile) }

        func client() throws -> LineClient { try LineClient(port: daemon.port) }
    }

    static func schedule(_ id: String, cron: String = "* * * * *", extra: String = "") -> String {
        #"{"schedule_id":"\#(id)","cron":"\#(cron)","workflow":{"name":"job","tasks":[{"id":"a","handler":"h","queue":"nobody"}]}\#(extra)}"#
    }

    /// The ids of the workflows whose id starts with `prefix@`.
    static func runs(_ client: LineClient, _ prefix: String) throws -> [String] {
        let list = try client.result("workflow.list", #"{"limit":1000}"#)
        guard case .array(let entries)? = list["workflows"] else { return [] }
        return entries.compactMap { $0["workflow_id"]?.stringValue }.filter { $0.hasPrefix(prefix + "@") }.sorted()
    }

    @Test func aScheduleFiresOnceAndNotAgainAfterASIGKILL() throws {
        let d = try ClockedDaemon(lead: 2500)
        let fireTime = d.nextMinute
        var client = try d.client()
        let created = try client.result("schedule.create", Self.schedule("tick", extra: #","overlap":"allow""#))
        #expect(created["created"] == .bool(true))
        #expect(
            try client.result("schedule.get", #"{"schedule_id":"tick"}"#)["next_fire_at"]?.stringValue?.hasPrefix(
                String(fireTime.dropLast())
            ) == true
        )
        // The fire is at most 2.5 s away.
        let deadline = Date().addingTimeInterval(8)
        while try Self.runs(client, "tick").isEmpty && Date() < deadline { client.pump(seconds: 0.1) }
        #expect(try Self.runs(client, "tick") == ["tick@" + fireTime])
        let record = try client.result("schedule.get", #"{"schedule_id":"tick"}"#)
        #expect(record["running"] == .array([.string("tick@" + fireTime)]))
        client.close()
        try d.crashAndRestart()
        client = try d.client()
        #expect(try Self.runs(client, "tick") == ["tick@" + fireTime])
        let after = try client.result("schedule.get", #"{"schedule_id":"tick"}"#)
        #expect(after["last_fire_at"]?.stringValue?.hasPrefix(String(fireTime.dropLast())) == true, "\(after)")
    }

    @Test func missedFiresAfterDowntimeFollowCatchupAndOverlap() throws {
        let d = try ClockedDaemon(lead: 20_000)
        var client = try d.client()
        for (id, extra) in [
            ("none", #","catchup":"none","overlap":"allow""#), ("one", #","overlap":"allow""#),
            ("all", #","catchup":"all","overlap":"allow""#), ("allskip", #","catchup":"all""#),
        ] {
            _ = try client.result("schedule.create", Self.schedule(id, extra: extra))
        }
        client.close()
        d.stop()
        // Down for three minutes from 20 s before a whole minute: three fires missed.
        try d.move(by: 3 * 60_000)
        try d.restart()
        client = try d.client()
        #expect(try Self.runs(client, "none").isEmpty)
        #expect(try Self.runs(client, "one").count == 1)
        #expect(try Self.runs(client, "all").count == 3)
        // Catch-up runs obey overlap: the first is still running, so the other two are skipped.
        #expect(try Self.runs(client, "allskip").count == 1)
        // A second restart at once starts nothing more.
        client.close()
        try d.crashAndRestart()
        client = try d.client()
        #expect(try Self.runs(client, "all").count == 3)
        #expect(try Self.runs(client, "one").count == 1)
    }

    @Test func createPauseTriggerDeleteAndBadInput() throws {
        let d = try ClockedDaemon(lead: 30_000)
        let client = try d.client()
        let definition = Self.schedule("p", extra: #","paused":true,"timezone":"Europe/Berlin""#)
        #expect(try client.result("schedule.create", definition)["created"] == .bool(true))
        #expect(try client.result("schedule.create", definition)["created"] == .bool(false))
        let other = try client.call("schedule.create", Self.schedule("p", cron: "@hourly"))
        #expect(other["error"]?["code"] == .int(-32006))
        let badCron = try client.call("schedule.create", Self.schedule("q", cron: "61 * * * *"))
        #expect(badCron["error"]?["data"]?["path"] == .string("cron"))
        let badTemplate = try client.call(
            "schedule.create",
            #"{"schedule_id":"q","cron":"@daily","workflow":{"name":"job","tasks":[]}}"#
        )
        #expect(badTemplate["error"]?["code"] == .int(-32602))
        #expect(badTemplate["error"]?["data"]?["path"] == .string("workflow.tasks"))
        let badZone = try client.call("schedule.create", Self.schedule("q", extra: #","timezone":"Nowhere/Land""#))
        #expect(badZone["error"]?["data"]?["path"] == .string("timezone"))
        let unknown = try client.call("schedule.pause", #"{"schedule_id":"nope"}"#)
        #expect(unknown["error"]?["code"] == .int(-32002))

        let paused = try client.result("schedule.get", #"{"schedule_id":"p"}"#)
        #expect(paused["paused"] == .bool(true))
        #expect(paused["next_fire_at"] == .null)
        let unpaused = try client.result("schedule.unpause", #"{"schedule_id":"p"}"#)
        #expect(unpaused["paused"] == .bool(false))
        #expect(unpaused["next_fire_at"]?.stringValue != nil)
        let triggered = try client.result("schedule.trigger", #"{"schedule_id":"p"}"#)
        let run = try #require(triggered["workflow_id"]?.stringValue)
        // The trigger's time to the millisecond: `p@2026-12-08T01:02:03.456Z`.
        #expect(run.hasPrefix("p@") && run.count == "p@2026-12-08T01:02:03.456Z".count, "\(run)")
        let record = try client.result("schedule.get", #"{"schedule_id":"p"}"#)
        #expect(record["running"] == .array([.string(run)]))
        #expect(record["timezone"] == .string("Europe/Berlin"))
        let list = try client.result("schedule.list")
        #expect(list["schedules"]?[0]?["schedule_id"] == .string("p"))
        #expect(try client.result("schedule.delete", #"{"schedule_id":"p"}"#) == .object([:]))
        #expect(try client.call("schedule.get", #"{"schedule_id":"p"}"#)["error"]?["code"] == .int(-32002))
        // The run goes on.
        #expect(try client.result("workflow.get", #"{"workflow_id":"\#(run)"}"#)["state"] == .string("running"))
    }

    @Test func startAtHoldsAWorkflowAcrossARestart() throws {
        let d = try ClockedDaemon(lead: 30_000)
        var client = try d.client()
        let startAt = ClockedDaemon.text(d.now + 2000)
        _ = try client.submit(
            #"{"name":"later","id":"later","start_at":"\#(startAt)","timeout_s":0.5,"tasks":[{"id":"a","handler":"h","queue":"nobody"}]}"#
        )
        let held = try client.result("workflow.get", #"{"workflow_id":"later"}"#)
        #expect(held["state"] == .string("running"))
        #expect(held["tasks"]?[0]?["state"] == .string("blocked"))
        #expect(held["start_at"]?.stringValue?.hasPrefix(String(startAt.dropLast())) == true, "\(held)")
        client.close()
        try d.crashAndRestart()
        client = try d.client()
        // Still held after the restart; its timeout counts from start_at, so it ends half a second after it.
        #expect(
            try client.result("workflow.get", #"{"workflow_id":"later"}"#)["tasks"]?[0]?["state"] == .string("blocked")
        )
        let ended = try client.wait("later", timeout: 6)
        #expect(ended["state"] == .string("timed_out"))
        let finished = try #require(ended["finished_at"]?.stringValue)
        let startDate = try #require(ISO8601DateFormatter().date(from: startAt))
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let finishedDate = try #require(f.date(from: finished))
        #expect(finishedDate.timeIntervalSince(startDate) >= 0.5)
        let bad = try client.call(
            "workflow.submit",
            #"{"name":"x","start_at":"tomorrow","tasks":[{"id":"a","handler":"h"}]}"#
        )
        #expect(bad["error"]?["data"]?["path"] == .string("start_at"))
    }
}
