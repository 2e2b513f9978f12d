import FlowlineProtocol
import FlowlineTestSupport
import Foundation
import Testing

/// `flowline limit set|list|delete`, `flowline pause|resume` (a workflow or `--queue`), and `status` saying what
/// holds a ready task back (SPEC §11).
@Suite(.serialized, .timeLimit(.minutes(2)))
struct FlowControlCommandTests {
    @Test func limitsPausesAndWhatHoldsATaskBack() throws {
        let fixture = try AdminFixture()
        let set = try fixture.tool(["limit", "set", "db", "--concurrency", "0"])
        #expect(set.status == 0, "\(set)")
        #expect(set.stdout.row("db")?[1...4] == ["0", "-", "-", "0"], "\(set)")
        let rate = try fixture.tool(["limit", "set", "api", "--per-s", "2.5", "--burst", "5"])
        #expect(rate.stdout.row("api")?[1...3] == ["-", "2.5", "5"], "\(rate)")
        let list = try fixture.tool(["limit", "list"])
        #expect(list.stdout.row("api") != nil && list.stdout.row("db") != nil, "\(list)")

        let client = try fixture.client()
        _ = try client.submit(
            #"{"name":"f","id":"f1","tasks":[{"id":"held","handler":"h","limits":["db"]}]}"#
        )
        let worker = try LineClient.worker(port: fixture.daemon.port, concurrency: 1)
        _ = worker.poll()
        let status = try fixture.tool(["status", "f1"])
        #expect(status.stdout.row("held")?[1] == "ready (limit db has concurrency 0)", "\(status)")

        let paused = try fixture.tool(["pause", "f1"])
        #expect(paused.status == 0, "\(paused)")
        #expect(paused.stdout.field("State") == "running (paused)", "\(paused)")
        #expect(paused.stdout.row("held")?[1] == "ready (workflow f1 is paused)", "\(paused)")
        #expect(try fixture.tool(["resume", "f1"]).status == 0)
        #expect(try fixture.tool(["pause", "--queue", "default"]).status == 0)
        #expect(try client.result("stats")["paused_queues"] == .array([.string("default")]))
        #expect(try fixture.tool(["resume", "--queue", "default"]).status == 0)
        #expect(try client.result("stats")["paused_queues"] == .array([]))

        #expect(try fixture.tool(["limit", "delete", "db"]).status == 0)
        #expect(try worker.nextTask()["task_id"]?.string == "held")
        let unknown = try fixture.tool(["limit", "delete", "db"])
        #expect(unknown.status == 2 && unknown.stderr.contains("no limit"), "\(unknown)")
        let both = try fixture.tool(["pause", "f1", "--queue", "q"])
        #expect(both.status == 2, "\(both)")
    }
}

extension JSON {
    fileprivate var string: String? { stringValue }
}
