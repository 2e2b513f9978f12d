import FlowlineProtocol
import FlowlineTestSupport
import Foundation
import Testing

/// SPEC §11's second chances against the real daemon: trigger rules, `revert_on_failure`, a workflow's `retry`,
/// `workflow.rerun` and the bulk operations, with a SIGKILL in the middle of a rerun and of a workflow retry.
@Suite(.timeLimit(.minutes(2)))
struct SecondChanceIntegrationTests {
    @Test func aCleanupTaskRunsAfterAFailureWithTheDepsErrors() throws {
        let f = try Fixture()
        let worker = try f.worker(concurrency: 4)
        let client = try f.client()
        _ = try client.submit(
            #"{"name":"etl","id":"etl","tasks":[{"id":"a","handler":"a"},{"id":"b","handler":"b","deps":["a"]},{"id":"cleanup","handler":"cleanup","deps":["a"],"run_if":"all_done"},{"id":"notify","handler":"notify","deps":["a"],"run_if":"any_failed"}]}"#
        )
        try worker.fail(try worker.nextTask(), retryable: false)
        var ran: [String: JSON] = [:]
        for _ in 0..<2 {
            let task = try worker.nextTask()
            ran[task["task_id"]!.stringValue!] = task
            try worker.complete(task, result: "\"done\"")
        }
        #expect(ran.keys.sorted() == ["cleanup", "notify"])
        #expect(ran["cleanup"]?["dep_errors"]?["a"]?["type"] == .string("boom"))
        #expect(ran["cleanup"]?["deps"]?["a"] == .null)
        let record = try client.wait("etl")
        #expect(record["state"] == .string("failed"))
        #expect(record["error"]?["type"] == .string("boom"))
        #expect(record.task("b")?["state"] == .string("skipped"))
        #expect(record.task("cleanup")?["state"] == .string("completed"))
        #expect(record["attempt"] == .int(1))

        let bad = try client.call(
            "workflow.submit",
            #"{"name":"x","tasks":[{"id":"a","handler":"a"},{"id":"b","handler":"b","deps":["a"],"run_if":"sometimes"}]}"#
        )
        #expect(bad["error"]?["code"] == .int(-32602))
        #expect(bad["error"]?["data"]?["path"] == .string("tasks[1].run_if"))
        let noRevert = try client.call(
            "workflow.submit",
            #"{"name":"x","tasks":[{"id":"a","handler":"a","revert_on_failure":true}]}"#
        )
        #expect(noRevert["error"]?["data"]?["path"] == .string("tasks[0].revert_on_failure"))
        let badRetry = try client.call(
            "workflow.submit",
            #"{"name":"x","retry":{"max_attempts":0},"tasks":[{"id":"a","handler":"a"}]}"#
        )
        #expect(badRetry["error"]?["data"]?["path"] == .string("retry.max_attempts"))
    }

    @Test(arguments: [false, true])
    func rerunRunsWhatFailedAgainAndSurvivesASIGKILLInTheMiddle(checkpoints: Bool) throws {
        // With a checkpoint after every event, recovery reads the rerun's state from snapshots, not from events.
        let arguments = checkpoints ? ["--checkpoint-events", "1"] : []
        let f = try Fixture(sync: "full", arguments: arguments)
        var worker = try f.worker()
        var client = try f.client()
        _ = try client.submit(
            #"{"name":"nightly","id":"n","tasks":[{"id":"extract","handler":"extract"},{"id":"load","handler":"load","deps":["extract"]}]}"#
        )
        let running = try client.call("workflow.rerun", #"{"workflow_id":"n"}"#)
        #expect(running["error"]?["code"] == .int(-32602))
        #expect(running["error"]?["data"]?["path"] == .string("workflow_id"))
        try worker.complete(try worker.nextTask(), result: #"{"rows":42}"#)
        try worker.fail(try worker.nextTask(), retryable: false)
        #expect(try client.wait("n")["state"] == .string("failed"))

        let rerun = try client.result("workflow.rerun", #"{"workflow_id":"n"}"#)
        #expect(rerun["state"] == .string("running"))
        #expect(rerun.task("extract")?["state"] == .string("completed"))
        let load = try worker.nextTask()
        #expect(load["task_id"] == .string("load"))
        #expect(load["attempt"] == .int(2))
        try f.crashAndRestart(sync: "full", arguments: arguments)
        worker = try f.worker()
        client = try f.client()
        let again = try worker.nextTask()
        #expect(again["task_id"] == .string("load"))
        #expect(again["attempt"] == .int(2))
        #expect(again["deps"]?["extract"]?["rows"] == .int(42))
        try worker.complete(again, result: "1")
        let record = try client.wait("n")
        #expect(record["state"] == .string("completed"))
        #expect(record.task("extract")?["attempts"] == .int(1))
        #expect(record.task("load")?["attempts"] == .int(2))
        let history = try client.result("workflow.history", #"{"workflow_id":"n"}"#)
        let types = history["events"]?.arrayValue?.compactMap { $0["type"]?.stringValue } ?? []
        #expect(types.contains("workflow_rerun"))

        let from = try client.result("workflow.rerun", #"{"workflow_id":"n","from":["extract"]}"#)
        #expect(from.task("extract")?["state"] != .string("completed"))
        let unknown = try client.call("workflow.rerun", #"{"workflow_id":"nope"}"#)
        #expect(unknown["error"]?["code"] == .int(-32002))
    }

    @Test(arguments: [false, true])
    func aWorkflowRetryRevertsAndRunsAgainAcrossASIGKILL(checkpoints: Bool) throws {
        let arguments = checkpoints ? ["--checkpoint-events", "1"] : []
        let f = try Fixture(sync: "full", arguments: arguments)
        var worker = try f.worker()
        var client = try f.client()
        _ = try client.submit(
            #"{"name":"job","id":"job","retry":{"max_attempts":2,"backoff_s":0.3},"tasks":[{"id":"volume","handler":"volume","revert":"undo_volume"},{"id":"attach","handler":"attach","deps":["volume"],"revert":"undo_attach","revert_on_failure":true}]}"#
        )
        try worker.complete(try worker.nextTask(), result: #""vol-1""#)
        try worker.fail(try worker.nextTask(), retryable: true)
        let undoAttach = try worker.nextTask()
        #expect(undoAttach["handler"] == .string("undo_attach"))
        #expect(undoAttach["result"] == .null)
        #expect(undoAttach["error"]?["type"] == .string("boom"))
        try worker.complete(undoAttach)
        let undoVolume = try worker.nextTask()
        #expect(undoVolume["handler"] == .string("undo_volume"))
        #expect(undoVolume["result"] == .string("vol-1"))
        try worker.complete(undoVolume)
        let between = try client.result("workflow.get", #"{"workflow_id":"job"}"#)
        #expect(between["state"] == .string("running"))
        #expect(between.task("attach")?["state"] == .string("reverted"))

        try f.crashAndRestart(sync: "full", arguments: arguments)
        worker = try f.worker()
        client = try f.client()
        let volume = try worker.nextTask()
        #expect(volume["handler"] == .string("volume"))
        #expect(volume["attempt"] == .int(2))
        try worker.complete(volume, result: #""vol-2""#)
        try worker.complete(try worker.nextTask(), result: #""attached""#)
        let record = try client.wait("job")
        #expect(record["state"] == .string("completed"))
        #expect(record["attempt"] == .int(2))
        let history = try client.result("workflow.history", #"{"workflow_id":"job"}"#)
        let types = history["events"]?.arrayValue?.compactMap { $0["type"]?.stringValue } ?? []
        #expect(types.contains("workflow_retrying") && types.contains("workflow_restarted"))
    }

    /// Function Flow's `job.get_task_result`: a running task reads any completed task's result of its workflow.
    @Test func aTaskReadsAnyCompletedTasksResultOfItsWorkflow() throws {
        let f = try Fixture()
        let worker = try f.worker()
        let client = try f.client()
        _ = try client.submit(
            #"{"name":"ff","id":"ff","tasks":[{"id":"step1","handler":"s"},{"id":"step2","handler":"s","deps":["step1"]},{"id":"step4","handler":"s","deps":["step2"]}]}"#
        )
        try worker.complete(try worker.nextTask(), result: #"{"n":1}"#)
        try worker.complete(try worker.nextTask(), result: #""result2""#)
        let step4 = try worker.nextTask()
        let lease = step4["lease"]!.stringValue!
        let step1 = try worker.result("task.result", #"{"lease":"\#(lease)","task_id":"step1"}"#)
        #expect(step1["result"]?["n"] == .int(1))
        let own = try worker.call("task.result", #"{"lease":"\#(lease)","task_id":"step4"}"#)
        #expect(own["error"]?["data"]?["path"] == .string("task_id"))
        let none = try worker.call("task.result", #"{"lease":"\#(lease)","task_id":"nope"}"#)
        #expect(none["error"]?["code"] == .int(-32602))
        try worker.complete(step4)
        let stale = try worker.call("task.result", #"{"lease":"\#(lease)","task_id":"step1"}"#)
        #expect(stale["error"]?["code"] == .int(-32003))
    }

    @Test func bulkOperationsAndListsFilterByMetadata() throws {
        let f = try Fixture()
        let client = try f.client()
        for (id, team) in [("a", "etl"), ("b", "etl"), ("c", "web")] {
            _ = try client.submit(
                #"{"name":"job","id":"\#(id)","metadata":{"team":"\#(team)"},"tasks":[{"id":"t","handler":"t"}]}"#
            )
        }
        let list = try client.result("workflow.list", #"{"metadata":{"team":"etl"}}"#)
        #expect(list["workflows"]?.arrayValue?.compactMap { $0["workflow_id"]?.stringValue } == ["b", "a"])
        #expect(list["workflows"]?[0]?["metadata"]?["team"] == .string("etl"))
        let empty = try client.call("workflow.cancel_many", "{}")
        #expect(empty["error"]?["code"] == .int(-32602))
        let emptyRerun = try client.call("workflow.rerun_many", "{}")
        #expect(emptyRerun["error"]?["code"] == .int(-32602))
        let cancelled = try client.result("workflow.cancel_many", #"{"metadata":{"team":"etl"}}"#)
        #expect(cancelled["matched"] == .int(2))
        #expect(try client.result("workflow.get", #"{"workflow_id":"c"}"#)["state"] == .string("running"))
        let rerun = try client.result("workflow.rerun_many", #"{"state":"cancelled","name":"job"}"#)
        #expect(rerun["matched"] == .int(2))
        #expect(try client.result("workflow.get", #"{"workflow_id":"a"}"#)["state"] == .string("running"))
    }
}
