import Flowline
import FlowlineProtocol
import FlowlineTestSupport
import Testing

/// The Worker's futures, spawns and reverts against the real daemon.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct WorkerFutureTests {
    @Test func functionFlowJobWithAKeyFuture() async throws {
        let f = try DaemonFixture()
        let worker = Worker(port: f.port, concurrency: 4)
        worker.register("step1") { _ in "result1" }
        worker.register("step2") { _ in "result2" }
        worker.register("step3") { task in .await(.key("bq-\(task.workflowID)", timeout: .seconds(60))) }
        worker.register("step4") { task in "result4 after \(try task.dep("step3", as: String.self))" }
        let client = try await f.client()
        defer { client.close() }
        let record = try await running(worker) {
            _ = try await client.submit(ClientTests.diamond)
            try await eventually("step3 to wait") {
                try await client.get("diamond-1").task("step3")?.state == "waiting"
            }
            #expect(try await client.resolve(key: "bq-diamond-1", result: "bq-done") == 1)
            return try await client.wait("diamond-1", timeout: .seconds(20))
        }
        #expect(record.state == "completed")
        #expect(record.result == ["step4": "result4 after bq-done"])
    }

    @Test func sleepPollAndSpawn() async throws {
        let f = try DaemonFixture()
        let worker = Worker(port: f.port, concurrency: 4)
        let polls = Tally()
        worker.register("nap") { _ in .await(.sleep(.milliseconds(50))) }
        worker.register("start_job") { _ in
            .await(.poll(handler: "check_job", input: ["job": "j1"], interval: .milliseconds(20), timeout: nil))
        }
        worker.register("check_job") { task in
            #expect(task.isPoll && task.input == ["job": "j1"])
            polls.enter()
            return polls.total < 3 ? .pending : .done("job-result")
        }
        worker.register("split") { _ in
            .spawn(output: "merge") {
                for i in 1...3 { Step("chunk-\(i)", handler: "square").input(["n": .int(Int64(i))]) }
                Step("merge", handler: "sum").deps("chunk-1", "chunk-2", "chunk-3")
            }
        }
        worker.register("square") { task in try task.input(as: [String: Int].self)["n", default: 0] * 2 }
        worker.register("sum") { task in task.deps.values.compactMap(\.int64Value).reduce(0, +) }
        let client = try await f.client()
        defer { client.close() }
        let record = try await running(worker) {
            _ = try await client.submit(
                Workflow(name: "mixed", id: "mixed") {
                    Step("nap")
                    Step("job", handler: "start_job")
                    Step("split")
                }
            )
            return try await client.wait("mixed", timeout: .seconds(20))
        }
        #expect(record.state == "completed", "\(record.json)")
        // A null result reads as nil.
        #expect(record.task("nap")?.state == "completed" && record.task("nap")?.result == nil)
        #expect(record.task("job")?.result == "job-result" && polls.total == 3)
        #expect(record.task("split")?.result == 12)
        #expect(record.task("split/merge")?.deps.sorted() == ["split/chunk-1", "split/chunk-2", "split/chunk-3"])
    }

    @Test func revertsReceiveTheTaskResult() async throws {
        let f = try DaemonFixture()
        let worker = Worker(port: f.port)
        let reverted = Tally()
        worker.register("book") { _ in ["booking": "b-1"] as JSON }
        worker.register("unbook") { task in
            #expect(task.isRevert && task.result == ["booking": "b-1"])
            reverted.enter()
            return JSON.null
        }
        worker.register("pay") { _ -> TaskOutcome in .fail(type: "declined", message: "card", retryable: false) }
        let client = try await f.client()
        defer { client.close() }
        let record = try await running(worker) {
            _ = try await client.submit(
                Workflow(name: "trip", id: "trip") {
                    Step("book").revert("unbook")
                    Step("pay").deps("book")
                }
            )
            return try await client.wait("trip", timeout: .seconds(20))
        }
        #expect(record.state == "failed" && record.reverted && reverted.total == 1)
        #expect(record.error?.type == "declined")
    }
}
