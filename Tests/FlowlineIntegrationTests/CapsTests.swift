import FlowlineProtocol
import FlowlineTestSupport
import Foundation
import Testing

/// The "never unbounded" rows of the hardening issue, against a real daemon: tokens, spawn depth, name lengths,
/// the kept-futures cap and `--retention`. Each bad input is a clear error that changes nothing, never a crash.
@Suite(.timeLimit(.minutes(2)))
struct CapsTests {
    private func code(_ message: JSON) -> Int64? { message["error"]?["code"]?.int64Value }
    private func path(_ message: JSON) -> JSON? { message["error"]?["data"]?["path"] }

    /// Runs `flowlined` with `arguments` (after a fresh data directory and a free port) for at most 5 s.
    private func runDaemon(_ arguments: [String]) throws -> ToolProcess.Output {
        let directory = try TemporaryDirectory()
        let binary = try #require(DaemonProcess.binary())
        return try ToolProcess.runProgram(
            binary,
            ["--listen", "127.0.0.1:0", "--data", directory.path + "/data", "--sync", "none"] + arguments,
            timeout: 5
        )
    }

    // MARK: - Tokens

    @Test(arguments: ["", "   ", " \n\t\r\n", "\n"])
    func aTokenFileOfOnlyWhitespaceRefusesToStart(contents: String) throws {
        let directory = try TemporaryDirectory()
        let tokenFile = directory.path + "/token"
        try contents.write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let run = try runDaemon(["--token-file", tokenFile])
        #expect(run.status != 0 && run.status != SIGKILL, "\(run)")
        #expect(!run.stdout.contains("listening"), "\(run)")
        #expect(run.stderr.contains("--token-file") && run.stderr.contains("empty"), "\(run)")
    }

    @Test func aTokenIsTrimmedOfSurroundingWhitespace() throws {
        let directory = try TemporaryDirectory()
        let tokenFile = directory.path + "/token"
        try "  s3cret \r\n\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let f = try Fixture(arguments: ["--token-file", tokenFile])
        let client = try f.client()
        #expect(code(try client.call("hello", #"{"role":"client","token":" s3cret ","protocol":1}"#)) == -32001)
        #expect(code(try client.call("hello", #"{"role":"client","token":"","protocol":1}"#)) == -32001)
        _ = try client.result("hello", #"{"role":"client","token":"s3cret","protocol":1}"#)
    }

    /// SPEC §12: a failed second hello is answered -32001 and ends the connection; the session's rights end with
    /// it, and a worker's leases end as on a disconnect (its task goes to another worker).
    @Test func aFailedSecondHelloEndsTheSessionAndTheConnection() throws {
        let directory = try TemporaryDirectory()
        let tokenFile = directory.path + "/token"
        try "s3cret".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let f = try Fixture(arguments: ["--token-file", tokenFile])
        let hello = #"{"role":"worker","name":"w","queues":["default"],"concurrency":1,"protocol":1,"token":"TOKEN"}"#
        let worker = try f.client()
        _ = try worker.result("hello", hello.replacingOccurrences(of: "TOKEN", with: "s3cret"))
        let client = try f.client()
        _ = try client.result("hello", #"{"role":"client","token":"s3cret","protocol":1}"#)
        // A disconnected worker's attempt counts (SPEC §2): a second one is left for the other worker.
        let id = try client.submit(#"{"name":"n","tasks":[{"id":"a","handler":"h","retry":{"max_attempts":2}}]}"#)
        let first = try worker.nextTask()
        #expect(first["workflow_id"] == .string(id))
        #expect(code(try worker.call("hello", hello.replacingOccurrences(of: "TOKEN", with: "nope"))) == -32001)
        let deadline = Date().addingTimeInterval(5)
        while !worker.isClosed && Date() < deadline { worker.pump(seconds: 0.05) }
        #expect(worker.isClosed, "the connection ends after the answer")
        // The lease ended with the connection: another worker gets the task again.
        let other = try f.client()
        _ = try other.result("hello", hello.replacingOccurrences(of: "TOKEN", with: "s3cret"))
        let again = try other.nextTask()
        #expect(again["workflow_id"] == .string(id) && again["attempt"] == .int(2), "\(again)")
        #expect(try other.complete(again)["result"] != nil)
        #expect(try client.wait(id)["state"] == .string("completed"))
    }

    // MARK: - Spawn depth

    @Test func spawnIsThirtyTwoLevelsDeepAtMost() throws {
        let f = try Fixture()
        let worker = try f.worker()
        let id = try f.client().submit(#"{"name":"deep","tasks":[{"id":"t","handler":"h"}]}"#)
        var task = try worker.nextTask()
        for level in 1...32 {
            let lease = task["lease"]!.stringValue!
            _ = try worker.result(
                "task.spawn",
                #"{"lease":"\#(lease)","output":"t","tasks":[{"id":"t","handler":"h"}]}"#
            )
            task = try worker.nextTask()
            #expect(task["task_id"]?.stringValue?.split(separator: "/").count == level + 1)
        }
        let lease = task["lease"]!.stringValue!
        let refused = try worker.call(
            "task.spawn",
            #"{"lease":"\#(lease)","output":"t","tasks":[{"id":"t","handler":"h"}]}"#
        )
        #expect(code(refused) == -32602, "\(refused)")
        #expect(path(refused) == .string("tasks"))
        #expect(refused["error"]?["message"]?.stringValue?.contains("32") == true, "\(refused)")
        // Nothing changed: the lease is still the deepest task's, which completes the whole chain.
        #expect(try worker.complete(task, result: "1")["result"] != nil)
        let record = try f.client().wait(id)
        #expect(record["state"] == .string("completed"))
        #expect(record["tasks"]?.arrayValue?.count == 33)
    }

    // MARK: - Name lengths

    @Test func namesLongerThan1024BytesAreRefused() throws {
        let f = try Fixture()
        let client = try f.client()
        let ok = String(repeating: "n", count: 1024)
        let long = String(repeating: "n", count: 1025)
        let table: [(String, String, String)] = [
            ("workflow.submit", #"{"name":"n","id":"\#(long)","tasks":[{"id":"a","handler":"h"}]}"#, "id"),
            ("workflow.submit", #"{"name":"n","tasks":[{"id":"\#(long)","handler":"h"}]}"#, "tasks[0].id"),
            ("workflow.submit", #"{"name":"n","tasks":[{"id":"a","handler":"\#(long)"}]}"#, "tasks[0].handler"),
            (
                "workflow.submit", #"{"name":"n","tasks":[{"id":"a","handler":"h","queue":"\#(long)"}]}"#,
                "tasks[0].queue"
            ),
            (
                "workflow.submit", #"{"name":"n","tasks":[{"id":"a","handler":"h","revert":"\#(long)"}]}"#,
                "tasks[0].revert"
            ),
            ("workflow.submit", #"{"name":"\#(long)","tasks":[{"id":"a","handler":"h"}]}"#, "name"),
            ("future.resolve", #"{"key":"\#(long)","result":1}"#, "key"),
            ("future.reject", #"{"key":"\#(long)","error":"no"}"#, "key"),
            ("hello", #"{"role":"worker","name":"\#(long)","queues":["q"],"protocol":1}"#, "name"),
            ("hello", #"{"role":"worker","name":"w","queues":["q","\#(long)"],"protocol":1}"#, "queues[1]"),
        ]
        for (method, params, expected) in table {
            let answer = try client.call(method, params)
            #expect(code(answer) == -32602, "\(method) \(expected)")
            #expect(path(answer) == .string(expected), "\(method) \(expected): \(answer)")
        }
        #expect(try client.result("workers.list")["workers"]?.arrayValue?.isEmpty == true, "no worker was registered")
        #expect(try client.result("workflow.list")["workflows"]?.arrayValue?.isEmpty == true, "nothing was submitted")
        // 1,024 bytes is the bound, not past it.
        let document = #"{"name":"\#(ok)","id":"\#(ok)","tasks":[{"id":"\#(ok)","handler":"\#(ok)","queue":"\#(ok)"}]}"#
        #expect(try client.submit(document) == ok)
        let worker = try f.client()
        _ = try worker.result("hello", #"{"role":"worker","name":"\#(ok)","queues":["\#(ok)"],"protocol":1}"#)
        let task = try worker.nextTask()
        #expect(task["handler"] == .string(ok))
        #expect(try worker.complete(task)["result"] != nil)
    }

    @Test func spawnedAndAwaitedNamesLongerThan1024BytesAreRefused() throws {
        let f = try Fixture()
        let worker = try f.worker()
        _ = try f.client().submit(#"{"name":"n","tasks":[{"id":"t","handler":"h"}]}"#)
        let task = try worker.nextTask()
        let lease = task["lease"]!.stringValue!
        let long = String(repeating: "x", count: 1025)
        let table: [(String, String, String)] = [
            (
                "task.spawn", #"{"lease":"\#(lease)","output":"a","tasks":[{"id":"a","handler":"\#(long)"}]}"#,
                "tasks[0].handler"
            ),
            (
                "task.spawn",
                #"{"lease":"\#(lease)","output":"a","tasks":[{"id":"a","handler":"h","queue":"\#(long)"}]}"#,
                "tasks[0].queue"
            ),
            (
                "task.spawn", #"{"lease":"\#(lease)","output":"\#(long)","tasks":[{"id":"\#(long)","handler":"h"}]}"#,
                "tasks[0].id"
            ),
            ("task.await", #"{"lease":"\#(lease)","future":{"key":"\#(long)"}}"#, "future.key"),
            (
                "task.await", #"{"lease":"\#(lease)","future":{"poll":{"handler":"\#(long)"}}}"#,
                "future.poll.handler"
            ),
        ]
        for (method, params, expected) in table {
            let answer = try worker.call(method, params)
            #expect(code(answer) == -32602, "\(method) \(expected)")
            #expect(path(answer) == .string(expected), "\(method) \(expected): \(answer)")
        }
        #expect(try worker.complete(task)["result"] != nil, "the lease is still open")
    }

    // MARK: - Kept futures

    @Test func keptResolutionsStopAtMaxKeptFuturesAcrossARestart() throws {
        let f = try Fixture(sync: "full", arguments: ["--max-kept-futures", "3"])
        var client = try f.client()
        for key in ["k1", "k2", "k3"] {
            #expect(try client.result("future.resolve", #"{"key":"\#(key)","result":1}"#)["matched"] == .int(0))
        }
        for (method, params) in [
            ("future.resolve", #"{"key":"k4","result":1}"#), ("future.reject", #"{"key":"k4","error":"no"}"#),
        ] {
            let refused = try client.call(method, params)
            #expect(code(refused) == -32602, "\(refused)")
            #expect(path(refused) == .string("key"))
            #expect(refused["error"]?["message"]?.stringValue?.contains("3") == true, "\(refused)")
        }
        #expect(
            try client.result("future.resolve", #"{"key":"k1","result":2}"#)["matched"] == .int(0),
            "a key already kept keeps nothing more"
        )
        // The count is the journal's: a restart rebuilds it.
        try f.crashAndRestart(sync: "full", arguments: ["--max-kept-futures", "3"])
        client = try f.client()
        #expect(code(try client.call("future.resolve", #"{"key":"k4","result":1}"#)) == -32602)
        // A task that awaits a kept key uses it up, which makes room for one more.
        let worker = try f.worker()
        let id = try client.submit(#"{"name":"n","tasks":[{"id":"t","handler":"h"}]}"#)
        let task = try worker.nextTask()
        _ = try worker.result("task.await", #"{"lease":"\#(task["lease"]!.stringValue!)","future":{"key":"k1"}}"#)
        #expect(try client.wait(id)["state"] == .string("completed"))
        #expect(try client.result("future.resolve", #"{"key":"k4","result":1}"#)["matched"] == .int(0))
        #expect(code(try client.call("future.resolve", #"{"key":"k5","result":1}"#)) == -32602)
    }

    @Test(arguments: ["0", "-1", "x", "1.5"])
    func maxKeptFuturesMustBeAPositiveCount(value: String) throws {
        let run = try runDaemon(["--max-kept-futures", value])
        #expect(run.status != 0 && run.status != SIGKILL, "\(run)")
        #expect(run.stderr.contains("max-kept-futures"), "\(run)")
    }

    // MARK: - Durations

    @Test(arguments: [
        ["--retention", "inf"], ["--retention", "infinity"], ["--retention", "1e30d"], ["--retention", "1e300"],
        ["--retention", "nan"], ["--retention", "-1d"], ["--retention", "7w"], ["--future-retention", "inf"],
        ["--future-retention", "1e30d"], ["--checkpoint-interval", "inf"], ["--checkpoint-interval", "1e30d"],
    ])
    func aDurationFlagOutOfRangeIsAUsageError(arguments: [String]) throws {
        let run = try runDaemon(arguments)
        #expect(run.status == 64, "a usage error, not a crash or a start: \(run)")
        #expect(run.stderr.contains(arguments[0]), "\(run)")
        #expect(!run.stdout.contains("listening"), "\(run)")
    }

    @Test func theLongestRetentionStartsAndServes() throws {
        let f = try Fixture(arguments: ["--retention", "36500d", "--future-retention", "36500d"])
        let client = try f.client()
        #expect(try client.result("future.resolve", #"{"key":"k","result":1}"#)["matched"] == .int(0))
        let worker = try f.worker()
        let id = try client.submit(#"{"name":"n","tasks":[{"id":"t","handler":"h"}]}"#)
        #expect(try worker.complete(try worker.nextTask())["result"] != nil)
        #expect(try client.wait(id)["state"] == .string("completed"))
    }
}
