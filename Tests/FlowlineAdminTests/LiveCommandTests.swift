import FlowlineProtocol
import FlowlineTestSupport
import Foundation
import Testing

/// Each live command against a real daemon, checking what the tables say.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct LiveCommandTests {
    @Test func submitWaitThenStatusProfileListHistoryWorkersStats() throws {
        let fixture = try AdminFixture()
        let worker = BackgroundWorker(port: fixture.daemon.port, delay: 0.1)
        defer { #expect(throws: Never.self) { try worker.stop() } }
        let file = try fixture.file("d1.json", diamondDocument(id: "d1"))

        let submit = try fixture.tool(["submit", file, "--wait"])
        #expect(submit.status == 0, "\(submit)")
        #expect(submit.stdout.field("State") == "completed", "\(submit)")
        for id in ["step1", "step2", "step3", "step4"] {
            #expect(submit.stdout.row(id)?[1...3] == ["completed", "1", "w1"], "\(submit)")
        }

        let status = try fixture.tool(["status", "d1"])
        #expect(status.status == 0, "\(status)")
        #expect(status.stdout.contains("| Task  | State     | Attempts | Worker | Scheduled"), "\(status)")
        #expect(status.stdout.field("Tasks") == "4: 4 completed", "\(status)")
        #expect(status.stdout.contains("Total time = "), "\(status)")
        let step1 = try #require(status.stdout.row("step1"), "\(status)")
        #expect(step1[4].count == 12 && step1[5].count == 12 && step1[6].count == 12, "clock times: \(step1)")
        #expect(Double(step1[7].dropLast()).map { $0 >= 0.1 } == true, "it ran at least the worker's delay: \(step1)")

        let profile = try fixture.tool(["profile", "d1"])
        #expect(profile.status == 0, "\(profile)")
        let order = profile.stdout.split(separator: "\n").compactMap { line in
            ["step1", "step2", "step3", "step4"].first { line.hasPrefix("| \($0) ") }
        }
        #expect(order.first == "step1" && order.last == "step4" && order.count == 4, "sorted by start: \(profile)")
        let run = try #require(profile.stdout.row("step4"), "\(profile)")
        #expect(Double(run[5]).map { $0 >= 0.1 } == true && Double(run[7]).map { $0 > 0 && $0 < 100 } == true, "\(run)")
        #expect(run[8].contains("#"), "a timeline: \(run)")
        let profileJSON = try JSONParser.parse(Array(try fixture.tool(["profile", "d1", "--json"]).stdout.utf8))
        #expect(profileJSON["tasks"]?[0]?["id"] == "step1")

        let json = try fixture.tool(["status", "d1", "--json"])
        let record = try JSONParser.parse(Array(json.stdout.utf8))
        let live = try fixture.client().result("workflow.get", #"{"workflow_id":"d1"}"#)
        #expect(record == live)

        let list = try fixture.tool(["list"])
        #expect(list.stdout.row("d1")?[1...2] == ["diamond", "completed"], "\(list)")
        let history = try fixture.tool(["history", "d1"])
        #expect(history.stdout.row("1")?[2] == "workflow_submitted", "\(history)")
        #expect(history.stdout.row("10")?[2] == "workflow_completed", "\(history)")
        #expect(history.stdout.row("2")?[3...4] == ["step1", "kind=attempt lease=L1 worker=w1"], "\(history)")
        let workers = try fixture.tool(["workers"])
        #expect(workers.stdout.row("w1")?[1...3] == ["default", "0", "1"], "\(workers)")
        let stats = try fixture.tool(["stats"])
        #expect(stats.stdout.field("Workflows") == "1: 1 completed", "\(stats)")
        #expect(stats.stdout.field("Last seq") == "10", "\(stats)")

        let verify = try ToolProcess.run(["replay", "--data", fixture.data, "--verify", "--server", fixture.server])
        #expect(verify.status == 0, "\(verify)")
        #expect(verify.stdout.contains("live: 1 workflows compared"), "\(verify)")
    }

    @Test func aFailedWorkflowExits1WithWaitAndShowsWhy() throws {
        let fixture = try AdminFixture()
        let worker = BackgroundWorker(port: fixture.daemon.port, failing: ["step2"])
        defer { #expect(throws: Never.self) { try worker.stop() } }
        let submit = try fixture.tool(["submit", "-", "--wait"], stdin: diamondDocument(id: "bad"))
        #expect(submit.status == 1, "\(submit)")
        #expect(submit.stdout.field("State") == "failed", "\(submit)")
        #expect(submit.stdout.row("step2")?[1] == "failed", "\(submit)")
        #expect(submit.stdout.row("step4")?[1] == "skipped", "\(submit)")
        #expect(submit.stdout.contains("- step2 (attempt 1): boom: it broke"), "\(submit)")
    }

    @Test func cancelResolveAndRejectAnswerAsTheMethods() throws {
        let fixture = try AdminFixture()
        let file = try fixture.file("one.json", #"{"name":"one","id":"c1","tasks":[{"id":"only","handler":"h"}]}"#)
        #expect(try fixture.tool(["submit", file]).stdout == "c1\n")
        let again = try fixture.tool(["submit", file])
        #expect(again.status == 0 && again.stdout == "c1\n" && again.stderr.contains("already exists"), "\(again)")
        let cancel = try fixture.tool(["cancel", "c1", "--reason", "test"])
        #expect(cancel.status == 0, "\(cancel)")
        #expect(cancel.stdout.field("State") == "cancelled", "\(cancel)")
        #expect(cancel.stdout.row("only")?[1] == "cancelled", "\(cancel)")
        let resolve = try fixture.tool(["resolve", "k1", "--result", #"{"rows":3}"#])
        let reject = try fixture.tool(["reject", "k2", "--error", "nope", "--json"])
        #expect(resolve.status == 0 && resolve.stdout.hasPrefix("no task awaits k1 yet"), "\(resolve)")
        #expect(reject.status == 0 && reject.stdout == "{\"matched\":0}\n", "\(reject)")
    }

    @Test func errorsAreOneLineOnStderrAndExit2() throws {
        let fixture = try AdminFixture()
        func expectOneLine(_ output: ToolProcess.Output, _ prefix: String) {
            #expect(output.status == 2, "\(output)")
            #expect(output.stderr.hasPrefix("flowline: " + prefix), "\(output)")
            #expect(output.stderr.split(separator: "\n").count == 1 && output.stdout.isEmpty, "\(output)")
        }
        expectOneLine(try fixture.tool(["status", "nope"]), "Not found")
        let malformed = try fixture.file("bad.json", #"{"name": "x", "tasks": [}"#)
        expectOneLine(try fixture.tool(["submit", malformed]), "\(malformed) is not valid JSON")
        let cycle = try fixture.file(
            "cycle.json",
            #"{"name":"c","tasks":[{"id":"a","handler":"h","deps":["b"]},{"id":"b","handler":"h","deps":["a"]}]}"#
        )
        expectOneLine(try fixture.tool(["submit", cycle]), "")
        expectOneLine(try fixture.tool(["submit", fixture.directory.path + "/missing.json"]), "cannot read")
        expectOneLine(try fixture.tool(["resolve", "k", "--result", "{oops"]), "--result is not valid JSON")
        let server = fixture.server
        fixture.daemon.crash()
        expectOneLine(try ToolProcess.run(["--server", server, "status", "d1"]), "cannot reach flowlined at \(server)")
        expectOneLine(try ToolProcess.run(["list", "--server", server, "--json"]), "cannot reach flowlined")
    }
}
