import FlowlineProtocol
import FlowlineTestSupport
import Foundation
import Testing

@Suite(.serialized, .timeLimit(.minutes(2)))
struct RestartTests {
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
        try f.crashAndRestart(sync: sync)
        client = try f.client()
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

    @Test func sigtermShutsDownCleanly() throws {
        let f = try Fixture()
        _ = try f.client().submit(#"{"name":"x","id":"x","tasks":[{"id":"a","handler":"h"}]}"#)
        #expect(f.daemon.stop(signal: SIGTERM) == 0)
    }
}
