import FlowlineProtocol
import FlowlineTestSupport
import Foundation
import Testing

/// `flowline schedule ...` against a real daemon.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ScheduleCommandTests {
    /// `flowline schedule SUB --server <the daemon> ARGS...`: the server options go with the subcommand.
    func schedule(_ fixture: AdminFixture, _ arguments: [String]) throws -> ToolProcess.Output {
        try fixture.offline(["schedule", arguments[0], "--server", fixture.server] + arguments.dropFirst())
    }

    @Test func createListGetPauseUnpauseTriggerDelete() throws {
        let fixture = try AdminFixture()
        let file = try fixture.file(
            "job.json",
            #"{"name":"job","tasks":[{"id":"a","handler":"h","queue":"nobody"}]}"#
        )
        let create = try schedule(
            fixture,
            [
                "create", "nightly", file, "--cron", "30 2 * * *", "--timezone", "Europe/Berlin",
                "--catchup", "none",
            ]
        )
        #expect(create.status == 0 && create.stdout == "nightly\n", "\(create)")
        let again = try schedule(fixture, ["create", "nightly", file, "--cron", "@hourly"])
        #expect(again.status == 2 && again.stderr.contains("in use"), "\(again)")

        let list = try schedule(fixture, ["list"])
        #expect(list.stdout.row("nightly")?[1...3] == ["30 2 * * *", "Europe/Berlin", "no"], "\(list)")
        let get = try schedule(fixture, ["get", "nightly"])
        #expect(get.stdout.field("Catch-up") == "none", "\(get)")
        #expect(get.stdout.field("Next fire")?.hasSuffix(":30:00.000Z") == true, "\(get)")

        let paused = try schedule(fixture, ["pause", "nightly"])
        #expect(paused.stdout.field("Paused") == "yes" && paused.stdout.field("Next fire") == "-", "\(paused)")
        let unpaused = try schedule(fixture, ["unpause", "nightly", "--json"])
        let record = try JSONParser.parse(Array(unpaused.stdout.utf8))
        #expect(record["paused"] == .bool(false))

        let trigger = try schedule(fixture, ["trigger", "nightly"])
        let run = trigger.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(run.hasPrefix("nightly@") && run.hasSuffix("Z"), "\(trigger)")
        #expect(try schedule(fixture, ["get", "nightly"]).stdout.field("Running") == run)

        let delete = try schedule(fixture, ["delete", "nightly"])
        #expect(delete.status == 0, "\(delete)")
        let gone = try schedule(fixture, ["get", "nightly"])
        #expect(gone.status == 2 && gone.stderr.contains("no schedule 'nightly'"), "\(gone)")
    }
}
