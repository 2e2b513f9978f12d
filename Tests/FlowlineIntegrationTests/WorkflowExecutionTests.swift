import FlowlineProtocol
import FlowlineTestSupport
import Testing

@Suite(.timeLimit(.minutes(2)))
struct WorkflowExecutionTests {
    static let diamond = #"""
        {"name":"test_job","id":"diamond-1","input":{"day":"2026-11-22"},"tasks":[
          {"id":"step1","handler":"step1"},
          {"id":"step2","handler":"step2","deps":["step1"]},
          {"id":"step3","handler":"step3","deps":["step1"]},
          {"id":"step4","handler":"step4","deps":["step2","step3"]}]}
        """#

    @Test func diamondPassesResultsAlongTheDAG() throws {
        let f = try Fixture()
        let client = try f.client()
        let worker = try f.worker(concurrency: 4)
        #expect(try client.submit(Self.diamond) == "diamond-1")
        let step1 = try worker.nextTask()
        #expect(step1["task_id"] == .string("step1"))
        #expect(step1["attempt"] == .int(1))
        #expect(step1["workflow_input"]?["day"] == .string("2026-11-22"))
        #expect(step1["workflow_name"] == .string("test_job"))
        try worker.complete(step1, result: #""result1""#)
        let middle = [try worker.nextTask(), try worker.nextTask()]
        #expect(Set(middle.compactMap { $0["task_id"]?.stringValue }) == ["step2", "step3"])
        for task in middle {
            #expect(task["deps"]?["step1"] == .string("result1"))
            try worker.complete(task, result: #""\#(task["task_id"]!.stringValue!)-done""#)
        }
        let step4 = try worker.nextTask()
        #expect(step4["deps"]?["step2"] == .string("step2-done"))
        #expect(step4["deps"]?["step3"] == .string("step3-done"))
        try worker.complete(step4, result: #"{"rows":4}"#)
        let record = try client.wait("diamond-1")
        #expect(record["state"] == .string("completed"))
        #expect(record["result"]?["step4"]?["rows"] == .int(4))
        #expect(record.task("step2")?["worker"] == .string("worker"))
        #expect(record.task("step4")?["attempts"] == .int(1))
        #expect(record["finished_at"]?.stringValue?.hasSuffix("Z") == true)
    }

    @Test func fanOutOfAThousandAndFanIn() throws {
        let f = try Fixture()
        let client = try f.client()
        let worker = try f.worker(concurrency: 64)
        let parallel = (0..<1000).map { #"{"id":"p\#($0)","handler":"square","deps":["split"],"input":{"n":\#($0)}}"# }
        let deps = (0..<1000).map { #""p\#($0)""# }.joined(separator: ",")
        let doc =
            #"{"name":"fan","id":"fan-1","tasks":[{"id":"split","handler":"split"},"#
            + parallel.joined(separator: ",") + #",{"id":"combine","handler":"sum","deps":[\#(deps)]}]}"#
        _ = try client.submit(doc)
        try worker.complete(try worker.nextTask(), result: "0")
        for _ in 0..<1000 {
            let task = try worker.nextTask()
            let n = task["input"]?["n"]?.int64Value ?? -1
            worker.send(
                "task.complete",
                #"{"lease":"\#(task["lease"]!.stringValue!)","result":\#(n * n)}"#,
                notification: true
            )
        }
        let combine = try worker.nextTask()
        #expect(combine["task_id"] == .string("combine"))
        let results = combine["deps"]?.objectValue ?? [:]
        #expect(results.count == 1000)
        let sum = results.values.compactMap(\.int64Value).reduce(0, +)
        #expect(sum == (0..<1000).map { Int64($0 * $0) }.reduce(0, +))
        try worker.complete(combine, result: "\(sum)")
        let record = try client.wait("fan-1")
        #expect(record["state"] == .string("completed"))
        #expect(record["result"]?["combine"] == .int(sum))
    }

    @Test func retrySucceedsOnTheThirdAttempt() throws {
        let f = try Fixture()
        let client = try f.client()
        let worker = try f.worker()
        _ = try client.submit(
            #"{"name":"r","id":"retry-1","tasks":[{"id":"flaky","handler":"flaky","retry":{"max_attempts":3,"backoff_s":0.05,"backoff_multiplier":2}}]}"#
        )
        for attempt in 1...2 {
            let task = try worker.nextTask()
            #expect(task["attempt"] == .int(Int64(attempt)))
            try worker.fail(task)
        }
        let third = try worker.nextTask()
        #expect(third["attempt"] == .int(3))
        try worker.complete(third, result: #""finally""#)
        let record = try client.wait("retry-1")
        #expect(record["state"] == .string("completed"))
        #expect(record.task("flaky")?["attempts"] == .int(3))
        #expect(record.task("flaky")?["result"] == .string("finally"))
    }

    @Test func timeoutEndsTheAttemptAndFencesTheLateOutcome() throws {
        let f = try Fixture()
        let client = try f.client()
        let worker = try f.worker()
        _ = try client.submit(
            #"{"name":"t","id":"timeout-1","tasks":[{"id":"slow","handler":"slow","timeout_s":0.2}]}"#
        )
        let task = try worker.nextTask()
        #expect(task["deadline"]?.stringValue != nil)
        let cancel = try worker.nextMessage(method: "task.cancel")
        #expect(cancel["params"]?["lease"] == task["lease"])
        let late = try worker.complete(task)
        #expect(late["error"]?["code"] == .int(-32003))
        let record = try client.wait("timeout-1")
        #expect(record["state"] == .string("failed"))
        #expect(record.task("slow")?["state"] == .string("timed_out"))
        #expect(record.task("slow")?["error"]?["type"] == .string("timeout"))
    }

    @Test func aWorkerThatDisconnectsHasItsTaskRetriedElsewhere() throws {
        let f = try Fixture()
        let client = try f.client()
        let first = try f.worker(name: "first")
        _ = try client.submit(
            #"{"name":"d","id":"disc-1","tasks":[{"id":"job","handler":"job","retry":{"max_attempts":2,"backoff_s":0.01}}]}"#
        )
        let task = try first.nextTask()
        first.close()
        let second = try f.worker(name: "second")
        let again = try second.nextTask()
        #expect(again["attempt"] == .int(2))
        #expect(again["task_id"] == task["task_id"])
        try second.complete(again, result: "1")
        let record = try client.wait("disc-1")
        #expect(record["state"] == .string("completed"))
        #expect(record.task("job")?["worker"] == .string("second"))
    }

    @Test func cancelStopsRunningTasksAndFencesTheirOutcomes() throws {
        let f = try Fixture()
        let client = try f.client()
        let worker = try f.worker(concurrency: 2)
        _ = try client.submit(Self.diamond)
        let step1 = try worker.nextTask()
        let record = try client.result("workflow.cancel", #"{"workflow_id":"diamond-1","reason":"operator"}"#)
        #expect(record["state"] == .string("cancelled"))
        #expect(record["tasks"]?.arrayValue?.allSatisfy { $0["state"] == .string("cancelled") } == true)
        let cancel = try worker.nextMessage(method: "task.cancel")
        #expect(cancel["params"]?["task_id"] == .string("step1"))
        #expect(try worker.complete(step1)["error"]?["code"] == .int(-32003))
        let again = try client.result("workflow.cancel", #"{"workflow_id":"diamond-1"}"#)
        #expect(again["state"] == .string("cancelled"))
    }

    @Test func submitIsIdempotentByID() throws {
        let f = try Fixture()
        let client = try f.client()
        let first = try client.result("workflow.submit", Self.diamond)
        #expect(first["created"] == .bool(true))
        let second = try client.result("workflow.submit", Self.diamond)
        #expect(second["created"] == .bool(false))
        #expect(second["workflow_id"] == .string("diamond-1"))
        let list = try client.result("workflow.list", "{}")
        #expect(list["workflows"]?.arrayValue?.count == 1)
        let generated = try client.result("workflow.submit", #"{"name":"x","tasks":[{"id":"a","handler":"h"}]}"#)
        #expect(generated["workflow_id"]?.stringValue?.isEmpty == false)
    }

    @Test func priorityAndCreditShapeDispatch() throws {
        let f = try Fixture()
        let client = try f.client()
        for (id, priority) in [("low", 0), ("high", 9), ("mid", 5)] {
            _ = try client.submit(
                #"{"name":"p","id":"\#(id)","tasks":[{"id":"t","handler":"h","priority":\#(priority)}]}"#
            )
        }
        let worker = try f.worker(concurrency: 1)
        var order: [String] = []
        for _ in 0..<3 {
            let task = try worker.nextTask()
            worker.pump(seconds: 0.05)
            #expect(worker.inbox.filter { $0["method"] == .string("task.run") }.isEmpty, "one slot, one task")
            order.append(task["workflow_id"]?.stringValue ?? "")
            try worker.complete(task)
        }
        #expect(order == ["high", "mid", "low"])
    }

    @Test func readsReportWorkersStatsListAndHistory() throws {
        let f = try Fixture()
        let client = try f.client()
        let worker = try f.worker(name: "reader", queues: ["default", "io"], concurrency: 3)
        _ = try client.submit(#"{"name":"h","id":"hist-1","tasks":[{"id":"a","handler":"h"}]}"#)
        try worker.complete(try worker.nextTask(), result: "7")
        _ = try client.wait("hist-1")
        let workers = try client.result("workers.list")["workers"]?.arrayValue ?? []
        #expect(workers.first?["name"] == .string("reader"))
        #expect(workers.first?["concurrency"] == .int(3))
        let stats = try client.result("stats")
        #expect(stats["workflows"]?["completed"] == .int(1))
        #expect(stats["tasks"]?["completed"] == .int(1))
        #expect((stats["journal"]?["last_seq"]?.int64Value ?? 0) >= 4)
        let history = try client.result("workflow.history", #"{"workflow_id":"hist-1"}"#)["events"]?.arrayValue ?? []
        #expect(
            history.compactMap { $0["type"]?.stringValue } == [
                "workflow_submitted", "task_dispatched", "task_completed", "workflow_completed",
            ]
        )
        let page = try client.result("workflow.list", #"{"state":"completed","limit":1}"#)
        #expect(page["workflows"]?[0]?["workflow_id"] == .string("hist-1"))
        #expect(page["next"] == .null)
    }

    /// With `--sync full` too, where task.run leaves before answers that wait for the meta sync: hello's answer
    /// goes with the dispatches.
    @Test(arguments: ["full", "none"])
    func aWorkerHearsItsHelloAnsweredBeforeItsFirstTask(sync: String) throws {
        let f = try Fixture(sync: sync)
        _ = try f.client().submit(#"{"name":"q","id":"queued","tasks":[{"id":"a","handler":"h"}]}"#)
        let worker = try f.client()
        let id = worker.send(
            "hello",
            #"{"role":"worker","name":"w","queues":["default"],"concurrency":1,"protocol":1}"#
        )
        _ = try worker.nextTask()
        let first = try JSONParser.parse(worker.received[0])
        #expect(first["id"] == .int(id), "the first line a worker receives answers its hello")
    }

    /// A stopping worker says worker.quiet, then hands back what it will not start with task.release: the task
    /// runs elsewhere under the same attempt number, and the quiet worker gets nothing more.
    @Test func aQuietWorkerReleasesWithoutUsingAttempts() throws {
        let f = try Fixture()
        let client = try f.client()
        let stopping = try f.worker(name: "stopping", concurrency: 2)
        _ = try client.submit(#"{"name":"q","id":"rel","tasks":[{"id":"a","handler":"h"},{"id":"b","handler":"h"}]}"#)
        let first = try stopping.nextTask()
        let second = try stopping.nextTask()
        _ = try stopping.result("worker.quiet")
        _ = try stopping.result("task.release", #"{"lease":"\#(first["lease"]!.stringValue!)"}"#)
        try stopping.complete(second)
        let other = try f.worker(name: "other")
        let again = try other.nextTask()
        #expect(again["task_id"] == first["task_id"])
        #expect(again["attempt"] == .int(1), "a released run does not use up its attempt")
        try other.complete(again)
        let record = try client.wait("rel")
        #expect(record["state"] == .string("completed"))
        _ = try client.submit(#"{"name":"q","id":"after","tasks":[{"id":"c","handler":"h"}]}"#)
        try other.complete(try other.nextTask())
        stopping.pump(seconds: 0.1)
        #expect(!stopping.inbox.contains { $0["method"] == .string("task.run") }, "a quiet worker gets no new runs")
        #expect(
            try stopping.call("task.release", #"{"lease":"\#(first["lease"]!.stringValue!)"}"#)["error"]?["code"]
                == .int(-32003)
        )
    }
}
