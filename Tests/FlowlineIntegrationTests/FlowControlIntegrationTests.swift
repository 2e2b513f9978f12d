import FlowlineProtocol
import FlowlineTestSupport
import Foundation
import Testing

/// Routing by handler (SPEC §8) and flow control (SPEC §11) against the real daemon, across SIGKILL restarts where
/// state is involved.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct FlowControlIntegrationTests {
    static func worker(_ f: Fixture, name: String, handlers: [String]?, concurrency: Int = 4) throws -> LineClient {
        let client = try f.client()
        let list = handlers.map { #","handlers":[\#($0.map { "\"\($0)\"" }.joined(separator: ","))]"# } ?? ""
        _ = try client.result(
            "hello",
            #"{"role":"worker","name":"\#(name)","queues":["default"],"concurrency":\#(concurrency),"protocol":1\#(list)}"#
        )
        return client
    }

    static func document(_ id: String, _ tasks: [(id: String, handler: String, extra: String)]) -> String {
        let list = tasks.map { #"{"id":"\#($0.id)","handler":"\#($0.handler)"\#($0.extra)}"# }
        return #"{"name":"flow","id":"\#(id)","tasks":[\#(list.joined(separator: ","))]}"#
    }

    /// The `task.run`s that arrived, without waiting.
    static func arrived(_ worker: LineClient) -> [JSON] {
        worker.poll()
        var runs: [JSON] = []
        while let run = try? worker.nextMessage(method: "task.run", timeout: 0.001) { runs.append(run["params"]!) }
        return runs
    }

    @Test func twoWorkersOfDifferentHandlersShareAQueue() throws {
        let f = try Fixture()
        let client = try f.client()
        let refused = try client.call("hello", #"{"role":"worker","name":"w","protocol":1,"handlers":[]}"#)
        #expect(refused["error"]?["code"] == .int(-32602))
        #expect(refused["error"]?["data"]?["path"]?.string == "handlers")
        let loads = (0..<3).map { (id: "l\($0)", handler: "load", extra: "") }
        let extracts = (0..<3).map { (id: "e\($0)", handler: "extract", extra: "") }
        _ = try client.submit(Self.document("r", loads + extracts))
        let extractor = try Self.worker(f, name: "extractor", handlers: ["extract"])
        var got: [String] = []
        for _ in 0..<3 {
            let task = try extractor.nextTask()
            #expect(task["handler"]?.string == "extract")
            got.append(task["task_id"]!.string!)
            try extractor.complete(task)
        }
        #expect(got == ["e0", "e1", "e2"])
        let record = try client.result("workflow.get", #"{"workflow_id":"r"}"#)
        #expect(record.task("l0")?["state"]?.string == "ready")
        #expect(record.task("l0")?["waiting_for"]?.string == "no worker offers handler load on queue default")
        #expect(record.task("e0")?["waiting_for"] == .null)
        let loader = try Self.worker(f, name: "loader", handlers: ["load"])
        for _ in 0..<3 {
            let task = try loader.nextTask()
            #expect(task["handler"]?.string == "load")
            try loader.complete(task)
        }
        #expect(try client.wait("r")["state"]?.string == "completed")
        #expect(Self.arrived(extractor).isEmpty)
    }

    @Test func pauseHoldsWorkflowsAndQueuesAcrossASIGKILL() throws {
        let f = try Fixture()
        var client = try f.client()
        _ = try client.submit(Self.document("held", [("a", "h", ""), ("b", "h", "")]))
        let paused = try client.result("workflow.pause", #"{"workflow_id":"held"}"#)
        #expect(paused["paused"] == .bool(true))
        #expect(paused.task("a")?["waiting_for"]?.string == "workflow held is paused")
        #expect(try client.result("queue.pause", #"{"queue":"other"}"#) == .object([:]))
        _ = try client.submit(#"{"name":"q","id":"queued","tasks":[{"id":"x","handler":"h","queue":"other"}]}"#)
        try f.crashAndRestart()
        client = try f.client()
        #expect(try client.result("stats")["paused_queues"] == .array([.string("other")]))
        let worker = try LineClient.worker(port: f.port, queues: ["default", "other"], concurrency: 4)
        worker.pump(seconds: 0.3)
        #expect(Self.arrived(worker).isEmpty)
        let record = try client.result("workflow.get", #"{"workflow_id":"queued"}"#)
        #expect(record.task("x")?["waiting_for"]?.string == "queue other is paused")
        #expect(try client.result("workflow.get", #"{"workflow_id":"held"}"#)["paused"] == .bool(true))
        _ = try client.result("queue.resume", #"{"queue":"other"}"#)
        #expect(try worker.nextTask()["workflow_id"]?.string == "queued")
        let resumed = try client.result("workflow.resume", #"{"workflow_id":"held"}"#)
        #expect(resumed["paused"] == .bool(false))
        let ids = Set([try worker.nextTask(), try worker.nextTask()].compactMap { $0["task_id"]?.string })
        #expect(ids == ["a", "b"])
        let unknown = try client.call("workflow.pause", #"{"workflow_id":"nope"}"#)
        #expect(unknown["error"]?["code"] == .int(-32002))
    }

    /// Three workers of four slots each, 45 tasks under a limit of 3: the workers never hold more than 3 runs at
    /// once, before and after a SIGKILL, and everything completes.
    @Test func aConcurrencyLimitIsNeverExceededUnderLoadAcrossASIGKILL() throws {
        let f = try Fixture()
        var client = try f.client()
        let set = try client.result("limit.set", #"{"key":"db","concurrency":3}"#)
        #expect(set["concurrency"] == .int(3))
        let tasks = (0..<45).map { (id: "t\($0)", handler: "h", extra: #","limits":["db"]"#) }
        _ = try client.submit(Self.document("load", tasks + [("free", "h", "")]))
        var done: Set<String> = []
        var most = 0
        func drive(_ workers: [LineClient], until enough: Int) throws {
            var held: [(LineClient, JSON)] = []
            let deadline = Date().addingTimeInterval(30)
            while done.count < enough && Date() < deadline {
                for worker in workers { held += Self.arrived(worker).map { (worker, $0) } }
                let limited = held.filter { $0.1["task_id"]?.string != "free" }.count
                most = max(most, limited)
                guard !held.isEmpty else { continue }
                let (worker, task) = held.removeFirst()
                try worker.complete(task)
                done.insert(task["task_id"]!.string!)
            }
        }
        var workers = try (0..<3).map { try LineClient.worker(port: f.port, name: "w\($0)", concurrency: 4) }
        try drive(workers, until: 20)
        try f.crashAndRestart()
        client = try f.client()
        #expect(try client.result("limit.get", #"{"key":"db"}"#)["running"] == .int(0))
        workers = try (0..<3).map { try LineClient.worker(port: f.port, name: "v\($0)", concurrency: 4) }
        try drive(workers, until: 46)
        #expect(done.count == 46)
        #expect(most == 3, "at most 3 runs under the limit at once, seen \(most)")
        #expect(try client.wait("load")["state"]?.string == "completed")
        let list = try client.result("limit.list")
        #expect(list["limits"]?.arrayValue?.count == 1)
        #expect(try client.result("limit.delete", #"{"key":"db"}"#) == .object([:]))
        #expect(try client.call("limit.get", #"{"key":"db"}"#)["error"]?["code"] == .int(-32002))
    }

    @Test func aRateLimitSpacesDispatches() throws {
        let f = try Fixture()
        let client = try f.client()
        _ = try client.result("limit.set", #"{"key":"api","per_s":10,"burst":1}"#)
        _ = try client.submit(Self.document("rate", (0..<6).map { ("t\($0)", "h", #","limits":["api"]"#) }))
        let worker = try LineClient.worker(port: f.port, concurrency: 10)
        var times: [Date] = []
        for _ in 0..<6 {
            _ = try worker.nextTask()
            times.append(Date())
        }
        // One token every 100 ms after the first: five waits.
        let span = times.last!.timeIntervalSince(times.first!)
        #expect(span >= 0.45, "6 dispatches at 10/s took \(span) s")
    }

    /// A tenant with 1,000 tasks queued before another's 5: the small tenant's tasks are dispatched in turns with the
    /// big one's, all within the first ten.
    @Test func aSmallTenantIsNotStarvedByABigOne() throws {
        let f = try Fixture()
        let client = try f.client()
        _ = try client.submit(
            Self.document("big", (0..<1000).map { ("b\($0)", "h", #","fairness_key":"big""#) })
        )
        _ = try client.submit(Self.document("small", (0..<5).map { ("s\($0)", "h", #","fairness_key":"small""#) }))
        let worker = try LineClient.worker(port: f.port, concurrency: 1)
        var order: [String] = []
        for _ in 0..<12 {
            let task = try worker.nextTask()
            order.append(task["task_id"]!.string!)
            try worker.complete(task)
        }
        print("fairness dispatch order: \(order.joined(separator: " "))")
        #expect(order == ["b0", "s0", "b1", "s1", "b2", "s2", "b3", "s3", "b4", "s4", "b5", "b6"])
    }
}
