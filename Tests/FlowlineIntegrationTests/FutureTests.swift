import Flowline
import FlowlineProtocol
import FlowlineTestSupport
import Testing

/// Futures against the real daemon; each test also runs with a SIGKILL restart at its interesting moment.
@Suite(.timeLimit(.minutes(2)))
struct FutureTests {
    /// The Function Flow seed's job: step1 → step2, step3 (waits on a query job's key) → step4 reads both.
    @Test(arguments: [false, true])
    func functionFlowJobWaitsForTheQueryJob(restart: Bool) throws {
        let f = try Fixture(sync: "full")
        var worker = try f.worker(concurrency: 4)
        _ = try f.client().submit(
            #"""
            {"name":"test_job","id":"ff","tasks":[{"id":"step1","handler":"task1"},
             {"id":"step2","handler":"task2","deps":["step1"]},{"id":"step3","handler":"task3","deps":["step1"]},
             {"id":"step4","handler":"task4","deps":["step2","step3"]}]}
            """#
        )
        try worker.complete(try worker.nextTask(), result: #""result1""#)
        for _ in 0..<2 {
            let task = try worker.nextTask()
            if task["task_id"] == .string("step3") {
                let lease = task["lease"]!.stringValue!
                _ = try worker.result(
                    "task.await",
                    #"{"lease":"\#(lease)","future":{"key":"bq-job-123","timeout_s":60}}"#
                )
            } else {
                try worker.complete(task, result: #""result2""#)
            }
        }
        let waiting = try f.client().result("workflow.get", #"{"workflow_id":"ff"}"#)
        #expect(waiting.task("step3")?["state"] == .string("waiting"))
        if restart {
            try f.crashAndRestart(sync: "full")
            worker = try f.worker(concurrency: 4)
        }
        // The external-event listener: a separate connection resolves the query job's key.
        let listener = try f.client()
        let matched = try listener.result("future.resolve", #"{"key":"bq-job-123","result":{"rows":42}}"#)
        #expect(matched["matched"] == .int(1))
        let step4 = try worker.nextTask()
        #expect(step4["task_id"] == .string("step4"))
        #expect(step4["deps"]?["step3"]?["rows"] == .int(42))
        #expect(step4["deps"]?["step2"] == .string("result2"))
        try worker.complete(step4, result: #""result4""#)
        let record = try f.client().wait("ff")
        #expect(record["state"] == .string("completed"))
        #expect(record.task("step3")?["result"]?["rows"] == .int(42))
        #expect(record.task("step3")?["attempts"] == .int(1))
    }

    @Test(arguments: [false, true])
    func aResolutionThatComesFirstIsKeptForTheAwait(restart: Bool) throws {
        let f = try Fixture(sync: "full")
        let early = try f.client().result("future.resolve", #"{"key":"approval-7","result":"approved"}"#)
        #expect(early["matched"] == .int(0))
        let ignored = try f.client().result("future.resolve", #"{"key":"approval-7","result":"second"}"#)
        #expect(ignored["matched"] == .int(0))
        if restart { try f.crashAndRestart(sync: "full") }
        let worker = try f.worker()
        _ = try f.client().submit(#"{"name":"a","id":"approve","tasks":[{"id":"ask","handler":"ask"}]}"#)
        let task = try worker.nextTask()
        _ = try worker.result(
            "task.await",
            #"{"lease":"\#(task["lease"]!.stringValue!)","future":{"key":"approval-7"}}"#
        )
        let record = try f.client().wait("approve")
        #expect(record["state"] == .string("completed"))
        #expect(record.task("ask")?["result"] == .string("approved"))
        // The kept resolution was used up: a second await of the key waits.
        _ = try f.client().submit(#"{"name":"a","id":"approve-2","tasks":[{"id":"ask","handler":"ask"}]}"#)
        let again = try worker.nextTask()
        _ = try worker.result(
            "task.await",
            #"{"lease":"\#(again["lease"]!.stringValue!)","future":{"key":"approval-7"}}"#
        )
        let waiting = try f.client().result("workflow.wait", #"{"workflow_id":"approve-2","timeout_s":0.3}"#)
        #expect(waiting["state"] == .string("running"))
    }

    @Test(arguments: [false, true])
    func rejectFailsTheAttemptAndTheRetryRunsTheHandlerAgain(restart: Bool) throws {
        let f = try Fixture(sync: "full")
        var worker = try f.worker()
        _ = try f.client().submit(
            #"{"name":"r","id":"rej","tasks":[{"id":"job","handler":"start","retry":{"max_attempts":2,"backoff_s":0.01}}]}"#
        )
        let first = try worker.nextTask()
        _ = try worker.result("task.await", #"{"lease":"\#(first["lease"]!.stringValue!)","future":{"key":"job-1"}}"#)
        if restart {
            // The task waits on its key across the crash; the rejection reaches it afterwards.
            try f.crashAndRestart(sync: "full")
            worker = try f.worker()
        }
        let rejected = try f.client().result("future.reject", #"{"key":"job-1","error":"the query failed"}"#)
        #expect(rejected["matched"] == .int(1))
        let second = try worker.nextTask()
        #expect(second["attempt"] == .int(2))
        #expect(second["handler"] == .string("start"))
        _ = try worker.result("task.await", #"{"lease":"\#(second["lease"]!.stringValue!)","future":{"key":"job-2"}}"#)
        _ = try f.client().result("future.reject", #"{"key":"job-2","error":{"type":"query_error","message":"again"}}"#)
        let record = try f.client().wait("rej")
        #expect(record["state"] == .string("failed"))
        #expect(record.task("job")?["error"]?["type"] == .string("query_error"))
    }

    @Test(arguments: [false, true])
    func aFutureTimeoutEndsTheAttempt(restart: Bool) throws {
        let f = try Fixture(sync: "full")
        let worker = try f.worker()
        _ = try f.client().submit(#"{"name":"t","id":"fto","tasks":[{"id":"job","handler":"start"}]}"#)
        let task = try worker.nextTask()
        _ = try worker.result(
            "task.await",
            #"{"lease":"\#(task["lease"]!.stringValue!)","future":{"key":"never","timeout_s":0.6}}"#
        )
        if restart { try f.crashAndRestart(sync: "full") }
        let record = try f.client().wait("fto")
        #expect(record["state"] == .string("failed"))
        #expect(record.task("job")?["state"] == .string("timed_out"))
        #expect(record.task("job")?["error"]?["type"] == .string("timeout"))
    }

    @Test(arguments: [false, true])
    func aSleepWakesAtItsOriginalTime(restart: Bool) throws {
        let f = try Fixture(sync: "full")
        let worker = try f.worker()
        _ = try f.client().submit(
            #"{"name":"s","id":"nap","tasks":[{"id":"nap","handler":"nap"},{"id":"after","handler":"after","deps":["nap"]}]}"#
        )
        let task = try worker.nextTask()
        _ = try worker.result("task.await", #"{"lease":"\#(task["lease"]!.stringValue!)","future":{"sleep_s":1.0}}"#)
        if restart { try f.crashAndRestart(sync: "full") }
        let next = try (restart ? f.worker() : worker).nextTask()
        #expect(next["task_id"] == .string("after"))
        #expect(next["deps"]?["nap"] == .null)
        let record = try f.client().result("workflow.get", #"{"workflow_id":"nap"}"#)
        let started = milliseconds(record.task("nap")?["started_at"]?.stringValue)
        let finished = milliseconds(record.task("nap")?["finished_at"]?.stringValue)
        #expect(finished - started >= 1000 && finished - started < 4000, "slept \(finished - started) ms")
    }

    @Test(arguments: [false, true])
    func aPollRunsUntilItAnswersDone(restart: Bool) throws {
        let f = try Fixture(sync: "full")
        var worker = try f.worker()
        _ = try f.client().submit(#"{"name":"p","id":"poll","tasks":[{"id":"query","handler":"start_query"}]}"#)
        let task = try worker.nextTask()
        _ = try worker.result(
            "task.await",
            #"{"lease":"\#(task["lease"]!.stringValue!)","future":{"poll":{"handler":"check_job","input":{"job":"q1"},"interval_s":0.05},"timeout_s":30}}"#
        )
        for round in 0..<3 {
            if restart && round == 1 {
                try f.crashAndRestart(sync: "full")
                worker = try f.worker()
            }
            let poll = try worker.nextTask()
            #expect(poll["poll"] == .bool(true))
            #expect(poll["handler"] == .string("check_job"))
            #expect(poll["input"]?["job"] == .string("q1"))
            #expect(poll["task_id"] == .string("query"))
            try worker.complete(poll, result: round < 2 ? #"{"done":false}"# : #"{"done":true,"result":{"rows":7}}"#)
        }
        let record = try f.client().wait("poll")
        #expect(record["state"] == .string("completed"))
        #expect(record.task("query")?["result"]?["rows"] == .int(7))
        #expect(record.task("query")?["attempts"] == .int(1), "polls are not attempts")
    }
}

/// An RFC 3339 time of a record in milliseconds, read with the client library's parser; 0 when missing.
private func milliseconds(_ text: String?) -> Int64 {
    text.flatMap(Timestamp.parse).map { Int64(($0 * 1000).rounded()) } ?? 0
}
