import FlowlineProtocol
import FlowlineTestSupport
import Foundation
import Testing

@Suite(.timeLimit(.minutes(2)))
struct CheckpointIntegrationTests {
    /// With a checkpoint every few events, a SIGKILL restart starts from the checkpoint and the events after it,
    /// and everything in flight carries on: a waiting key, a running task, a kept resolution.
    @Test func aRestartFromACheckpointCarriesOn() throws {
        let f = try Fixture(sync: "full", arguments: ["--checkpoint-events", "4"])
        var worker = try f.worker(concurrency: 4)
        _ = try f.client().submit(
            #"{"name":"c","id":"c1","tasks":[{"id":"a","handler":"h"},{"id":"b","handler":"h","deps":["a"]}]}"#
        )
        _ = try f.client().submit(#"{"name":"c","id":"c2","tasks":[{"id":"wait","handler":"h"}]}"#)
        _ = try f.client().result("future.resolve", #"{"key":"early","result":"kept"}"#)
        for _ in 0..<2 {
            let task = try worker.nextTask()
            if task["workflow_id"] == .string("c2") {
                _ = try worker.result(
                    "task.await",
                    #"{"lease":"\#(task["lease"]!.stringValue!)","future":{"key":"late"}}"#
                )
            } else {
                try worker.complete(task, result: "1")
            }
        }
        let running = try worker.nextTask()  // c1/b, left running through the crash
        #expect(running["task_id"] == .string("b"))
        for i in 0..<6 {
            _ = try f.client().submit(
                #"{"name":"filler","id":"f\#(i)","tasks":[{"id":"x","handler":"x","queue":"none"}]}"#
            )
        }
        try f.crashAndRestart(sync: "full")
        worker = try f.worker(concurrency: 4)
        let again = try worker.nextTask()
        #expect(again["task_id"] == .string("b") && again["attempt"] == .int(1))
        try worker.complete(again, result: "2")
        #expect(try f.client().wait("c1")["result"]?["b"] == .int(2))
        #expect(try f.client().result("future.resolve", #"{"key":"late","result":"done"}"#)["matched"] == .int(1))
        #expect(try f.client().wait("c2").task("wait")?["result"] == .string("done"))
        _ = try f.client().submit(#"{"name":"k","id":"k","tasks":[{"id":"k","handler":"h"}]}"#)
        let k = try worker.nextTask()
        _ = try worker.result("task.await", #"{"lease":"\#(k["lease"]!.stringValue!)","future":{"key":"early"}}"#)
        #expect(try f.client().wait("k").task("k")?["result"] == .string("kept"))
        let list = try f.client().result("workflow.list", #"{"limit":1000}"#)["workflows"]?.arrayValue ?? []
        #expect(list.count == 9)
    }

    /// A start without a checkpoint replays the whole journal, so its first checkpoint must hold every workflow,
    /// not only those changed after the start: the next start reads nothing before that checkpoint.
    @Test func theFirstCheckpointAfterAFullReplayHoldsEveryWorkflow() throws {
        let f = try Fixture(arguments: ["--checkpoint-events", "1000000", "--checkpoint-interval", "1000s"])
        let ids = ["r0", "r1", "r2"]
        for id in ids {
            _ = try f.client().submit(#"{"name":"r","id":"\#(id)","tasks":[{"id":"a","handler":"h","queue":"none"}]}"#)
        }
        try f.crashAndRestart(arguments: ["--checkpoint-events", "1"])
        _ = try f.client().submit(#"{"name":"r","id":"after","tasks":[{"id":"a","handler":"h","queue":"none"}]}"#)
        try f.crashAndRestart()
        let client = try f.client()
        for id in ids + ["after"] {
            let workflow = try client.result("workflow.get", #"{"workflow_id":"\#(id)"}"#)
            #expect(workflow["state"] == .string("running"), "\(id)")
        }
        #expect(try client.result("stats")["workflows"]?["running"] == .int(4))
    }

    /// Finished workflows older than --retention are compacted away with their journal records.
    @Test func finishedWorkflowsPastTheRetentionAreCompacted() throws {
        let f = try Fixture(arguments: ["--retention", "0.2s", "--checkpoint-interval", "0.1s"])
        let worker = try f.worker()
        let client = try f.client()
        _ = try client.submit(#"{"name":"old","id":"old","tasks":[{"id":"a","handler":"h"}]}"#)
        try worker.complete(try worker.nextTask())
        _ = try client.wait("old")
        _ = try client.submit(#"{"name":"live","id":"live","tasks":[{"id":"a","handler":"h","queue":"none"}]}"#)
        // No traffic now: an idle daemon must still compact (and commit that) on its own.
        usleep(1_000_000)
        try f.crashAndRestart()
        let idle = try f.client()
        #expect(
            try idle.call("workflow.get", #"{"workflow_id":"old"}"#)["error"]?["code"] == .int(-32002),
            "an idle daemon did not compact"
        )
        #expect(try idle.call("workflow.history", #"{"workflow_id":"old"}"#)["error"]?["code"] == .int(-32002))
        #expect(try idle.result("workflow.get", #"{"workflow_id":"live"}"#)["state"] == .string("running"))
        try f.crashAndRestart()
        let after = try f.client()
        #expect(try after.call("workflow.get", #"{"workflow_id":"old"}"#)["error"]?["code"] == .int(-32002))
        #expect(try after.result("workflow.get", #"{"workflow_id":"live"}"#)["state"] == .string("running"))
        #expect(try after.result("stats")["workflows"]?["completed"] == .int(0))
    }
}
