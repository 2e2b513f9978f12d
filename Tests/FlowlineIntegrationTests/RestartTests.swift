import FlowlineProtocol
import FlowlineTestSupport
import Foundation
import Testing

@Suite(.serialized, .timeLimit(.minutes(2)))
struct RestartTests {
    /// Pipelined submits and completions, many turns' worth: every one is answered, and everything answered
    /// survives a SIGKILL.
    @Test(arguments: ["full", "none"])
    func pipelinedAnswersAllArriveAndSurviveSIGKILL(sync: String) throws {
        let f = try Fixture(sync: sync)
        var client = try f.client()
        let worker = try f.worker(concurrency: 64)
        let ids = (0..<300).map { i in
            client.send("workflow.submit", #"{"name":"single","id":"p-\#(i)","tasks":[{"id":"a","handler":"h"}]}"#)
        }
        var completions: [Int64] = []
        for _ in 0..<150 {
            let task = try worker.nextTask()
            completions.append(
                worker.send("task.complete", #"{"lease":"\#(task["lease"]!.string!)","result":{"ok":true}}"#)
            )
        }
        for id in ids { #expect(try client.response(to: id)["result"]?["created"] == .bool(true)) }
        for id in completions { #expect(try worker.response(to: id)["result"] != nil) }
        try f.crashAndRestart(sync: sync)
        client = try f.client()
        let stats = try client.result("stats")
        #expect(stats["workflows"]?["completed"] == .int(150), "\(stats)")
        #expect(stats["workflows"]?["running"] == .int(150), "\(stats)")
    }

    @Test(arguments: ["full", "none"])
    func acknowledgedWorkSurvivesSIGKILL(sync: String) throws {
        let f = try Fixture(sync: sync)
        var client = try f.client()
        let chain = (0..<20).map { i in
            #"{"id":"t\#(i)","handler":"step"\#(i == 0 ? "" : #","deps":["t\#(i - 1)"]"#)}"#
        }
        _ = try client.submit(#"{"name":"chain","id":"chain-1","tasks":[\#(chain.joined(separator: ","))]}"#)
        _ = try client.submit(#"{"name":"single","id":"other","tasks":[{"id":"a","handler":"h"}]}"#)
        var worker = try f.worker(concurrency: 1)
        var acknowledged: Set<String> = []
        for _ in 0..<6 {
            let task = try worker.nextTask()
            let id = "\(task["workflow_id"]!.string!)/\(task["task_id"]!.string!)"
            let response = try worker.complete(task, result: #""\#(id)""#)
            #expect(response["result"] != nil)
            acknowledged.insert(id)
        }
        // One more task is leased but not completed when the daemon dies.
        let inFlight = try worker.nextTask()
        // The daemon defers the history index's entries (JournalStore.indexDeferral): these are not written yet.
        let history = #"{"workflow_id":"chain-1"}"#
        let before = try client.result("workflow.history", history)["events"]?.arrayValue ?? []
        #expect(before.count >= 8)
        try f.crashAndRestart(sync: sync)
        client = try f.client()
        let after = try client.result("workflow.history", history)["events"]?.arrayValue ?? []
        #expect(Array(after.prefix(before.count)) == before)
        worker = try f.worker(concurrency: 1)
        var rerun: [String] = []
        while true {
            let record = try client.result("workflow.get", #"{"workflow_id":"chain-1"}"#)
            let other = try client.result("workflow.get", #"{"workflow_id":"other"}"#)
            if record["state"] == .string("completed") && other["state"] == .string("completed") { break }
            let task = try worker.nextTask()
            let id = "\(task["workflow_id"]!.string!)/\(task["task_id"]!.string!)"
            #expect(!acknowledged.contains(id), "\(id) was completed before the crash and ran again")
            if task["task_id"] == inFlight["task_id"] && task["workflow_id"] == inFlight["workflow_id"] {
                #expect(task["attempt"] == inFlight["attempt"], "a restart alone must not use up an attempt")
            }
            rerun.append(id)
            try worker.complete(task, result: #""\#(id)""#)
        }
        let record = try client.wait("chain-1")
        #expect(record["state"] == .string("completed"))
        #expect(record["result"]?["t19"] == .string("chain-1/t19"))
        for i in 0..<20 {
            #expect(record.task("t\(i)")?["attempts"] == .int(1))
            #expect(record.task("t\(i)")?["result"] == .string("chain-1/t\(i)"))
        }
        #expect(rerun.count == 21 - acknowledged.count)
    }

    @Test func aWaitingRetryKeepsItsTimeAcrossARestart() throws {
        let f = try Fixture()
        let client = try f.client()
        _ = try client.submit(
            #"{"name":"r","id":"retry-restart","tasks":[{"id":"a","handler":"h","retry":{"max_attempts":2,"backoff_s":0.5}}]}"#
        )
        let worker = try f.worker()
        try worker.fail(try worker.nextTask())
        try f.crashAndRestart()
        let again = try f.worker()
        let task = try again.nextTask(timeout: 10)
        #expect(task["attempt"] == .int(2))
        try again.complete(task)
        #expect(try f.client().wait("retry-restart")["state"] == .string("completed"))
    }

    /// `stats` counts what the records say, live and after a restart replays the journal.
    @Test func statsAgreeWithTheRecordsAcrossARestart() throws {
        let f = try Fixture()
        var client = try f.client()
        _ = try client.submit(
            #"{"name":"s","id":"done","tasks":[{"id":"a","handler":"h"},{"id":"b","handler":"h","deps":["a"]}]}"#
        )
        _ = try client.submit(
            #"{"name":"s","id":"broken","tasks":[{"id":"a","handler":"h"},{"id":"b","handler":"h","deps":["a"]}]}"#
        )
        _ = try client.submit(#"{"name":"s","id":"leased","tasks":[{"id":"a","handler":"h"}]}"#)
        _ = try client.submit(#"{"name":"s","id":"dropped","tasks":[{"id":"a","handler":"h","queue":"none"}]}"#)
        _ = try client.submit(#"{"name":"s","id":"queued","tasks":[{"id":"a","handler":"h","queue":"none"}]}"#)
        _ = try client.result("workflow.cancel", #"{"workflow_id":"dropped"}"#)
        let worker = try f.worker(concurrency: 1)
        for _ in 0..<3 {
            let task = try worker.nextTask()
            if task["workflow_id"] == .string("broken") {
                _ = try worker.fail(task, retryable: false)
            } else {
                _ = try worker.complete(task)
            }
        }
        _ = try worker.nextTask()
        try expectStatsMatchRecords(client, "live")
        try f.crashAndRestart()
        client = try f.client()
        try expectStatsMatchRecords(client, "after a restart")
    }

    private func expectStatsMatchRecords(_ client: LineClient, _ when: String) throws {
        var workflows: [String: Int64] = [:]
        var tasks: [String: Int64] = [:]
        for listed in try client.result("workflow.list", #"{"limit":1000}"#)["workflows"]?.arrayValue ?? [] {
            let id = listed["workflow_id"]?.stringValue ?? ""
            let record = try client.result("workflow.get", #"{"workflow_id":"\#(id)"}"#)
            workflows[record["state"]?.stringValue ?? "", default: 0] += 1
            for task in record["tasks"]?.arrayValue ?? [] { tasks[task["state"]?.stringValue ?? "", default: 0] += 1 }
        }
        #expect(workflows.values.reduce(0, +) == 5, "\(when)")
        let stats = try client.result("stats")
        for state in ["running", "reverting", "completed", "failed", "cancelled", "timed_out"] {
            #expect(stats["workflows"]?[state] == .int(workflows[state] ?? 0), "\(when): workflows \(state)")
        }
        for state in [
            "blocked", "ready", "running", "waiting", "completed", "failed", "timed_out", "cancelled", "skipped",
            "reverting", "reverted", "revert_failed",
        ] {
            #expect(stats["tasks"]?[state] == .int(tasks[state] ?? 0), "\(when): tasks \(state)")
        }
    }

    @Test func sigtermShutsDownCleanly() throws {
        let f = try Fixture()
        _ = try f.client().submit(#"{"name":"x","id":"x","tasks":[{"id":"a","handler":"h"}]}"#)
        #expect(f.daemon.stop(signal: SIGTERM) == 0)
    }
}
