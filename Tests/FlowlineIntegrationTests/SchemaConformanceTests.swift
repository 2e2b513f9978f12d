import FlowlineProtocol
import FlowlineTestSupport
import Testing

/// Real traffic with a running daemon, both directions, checked against proto-json, so the schemas cannot
/// drift from the code.
@Suite(.timeLimit(.minutes(2)))
struct SchemaConformanceTests {
    @Test func everyMessageOfARealSessionMatchesItsSchema() throws {
        let checker = TranscriptChecker()
        let f = try Fixture()
        let client = try f.client()
        _ = try client.result("hello", #"{"role":"client","name":"checker","protocol":1}"#)
        let worker = try f.worker(name: "w", queues: ["default"], concurrency: 2)
        _ = try client.submit(WorkflowExecutionTests.diamond)
        _ = try client.submit(
            #"{"name":"flaky","id":"flaky","input":{"n":1},"timeout_s":60,"tasks":[{"id":"a","handler":"a","queue":"default","input":[1,"x"],"retry":{"max_attempts":2,"backoff_s":0.01,"backoff_multiplier":2,"max_backoff_s":1},"timeout_s":30,"heartbeat_s":10,"revert":"undo_a","priority":3}]}"#
        )
        var finished = 0
        while finished < 5 {
            let task = try worker.nextTask()
            let lease = task["lease"]!.stringValue!
            if task["task_id"] == .string("a") && task["attempt"] == .int(1) {
                _ = try worker.result("task.heartbeat", #"{"lease":"\#(lease)","progress":0.5}"#)
                try worker.fail(task)
                continue
            }
            try worker.complete(task, result: #"{"ok":true}"#)
            finished += 1
        }
        _ = try client.wait("diamond-1")
        _ = try client.wait("flaky")
        _ = try client.result("workflow.get", #"{"workflow_id":"flaky"}"#)
        _ = try client.result("workflow.list", #"{"limit":10}"#)
        _ = try client.result("workflow.history", #"{"workflow_id":"flaky"}"#)
        _ = try client.result("workers.list")
        _ = try client.result("stats")
        _ = try client.submit(#"{"name":"c","id":"to-cancel","tasks":[{"id":"x","handler":"never","queue":"nobody"}]}"#)
        _ = try client.result("workflow.cancel", #"{"workflow_id":"to-cancel","reason":"test"}"#)
        _ = try client.call("workflow.get", #"{"workflow_id":"missing"}"#)
        _ = try client.call("workflow.submit", #"{"name":"bad","tasks":[]}"#)
        _ = try worker.call("task.complete", #"{"lease":"L424242","result":null}"#)
        client.sendRaw(Array("not json\n".utf8))
        _ = try client.nextMessage()

        // A task cancelled while it runs sends task.cancel.
        _ = try client.submit(#"{"name":"c2","id":"cancel-running","tasks":[{"id":"y","handler":"slow"}]}"#)
        _ = try worker.nextTask()
        _ = try client.result("workflow.cancel", #"{"workflow_id":"cancel-running"}"#)
        _ = try worker.nextMessage(method: "task.cancel")

        // A stopping worker: quiet, then hand back a run it will not start.
        _ = try client.submit(#"{"name":"r","id":"released","tasks":[{"id":"z","handler":"z"}]}"#)
        let handedBack = try worker.nextTask()
        _ = try worker.result("worker.quiet")
        _ = try worker.result("task.release", #"{"lease":"\#(handedBack["lease"]!.stringValue!)"}"#)

        let problems = try checker.violations(of: client, worker)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        #expect(client.received.count > 15 && worker.received.count > 8)
    }
}
