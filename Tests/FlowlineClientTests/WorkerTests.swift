import Flowline
import FlowlineProtocol
import FlowlineTestSupport
import Foundation
import Testing

@Suite(.serialized, .timeLimit(.minutes(2)))
struct WorkerTests {
    @Test func runsTheFunctionFlowDiamond() async throws {
        let f = try DaemonFixture()
        let worker = Worker(port: f.port, name: "diamond-worker", concurrency: 4)
        worker.register("step1") { _ in "result1" }
        worker.register("step2") { _ in "result2" }
        worker.register("step3") { task in .result(.string("result3 after \(try task.dep("step1", as: String.self))")) }
        worker.register("step4") { task in
            struct Day: Decodable { var day: String }
            #expect(try task.dep("step2", as: String.self) == "result2")
            return ["rows": 4, "day": .string(try task.workflowInput(as: Day.self).day)] as JSON
        }
        let client = try await f.client()
        defer { client.close() }
        let record = try await running(worker) {
            _ = try await client.submit(ClientTests.diamond)
            return try await client.wait("diamond-1", timeout: .seconds(20))
        }
        #expect(record.state == "completed")
        #expect(record.result == ["step4": ["rows": 4, "day": "2026-11-22"]])
        #expect(record.task("step3")?.result == "result3 after result1")
        #expect(record.tasks.allSatisfy { $0.worker == "diamond-worker" && $0.attempts == 1 })
    }

    @Test func inlineHandlersPassResultsAlongAChainAndMayAwait() async throws {
        let f = try DaemonFixture()
        let worker = Worker(port: f.port, name: "inline", concurrency: 3, runsHandlersInline: true)
        worker.register("step") { task in
            // A suspension inside an inline handler resumes on the worker's loop and still reports.
            if task.attempt == 1 && task.taskID == "s3" { try await Task.sleep(for: .milliseconds(20)) }
            return .result(.int((task.deps.values.first?.int64Value ?? 0) + 1))
        }
        let client = try await f.client()
        defer { client.close() }
        let record = try await running(worker) {
            _ = try await client.submit(
                Workflow(name: "chain", id: "inline-chain") {
                    for i in 0..<10 {
                        Step("s\(i)", handler: "step").deps(i == 0 ? [] : ["s\(i - 1)"])
                    }
                }
            )
            return try await client.wait("inline-chain", timeout: .seconds(20))
        }
        #expect(record.state == "completed")
        #expect(record.result == ["s9": 10])
        #expect(await worker.peakConcurrency() <= 3)
    }

    @Test func retriesAThrowingHandler() async throws {
        let f = try DaemonFixture()
        let worker = Worker(port: f.port)
        struct Flaky: Error {}
        worker.register("flaky", input: [String: Int].self) { input, task in
            if task.attempt == 1 { throw Flaky() }
            return input["n", default: 0] * 2
        }
        worker.register("fatal") { _ -> TaskOutcome in
            throw TaskFailure(type: "bad_input", message: "never", retryable: false)
        }
        let client = try await f.client()
        defer { client.close() }
        let (ok, failed) = try await running(worker) {
            _ = try await client.submit(
                Workflow(name: "retry", id: "r1") {
                    Step("flaky").input(["n": 21]).retry(maxAttempts: 2, backoff: .milliseconds(50))
                }
            )
            _ = try await client.submit(
                Workflow(name: "fatal", id: "r2") {
                    Step("fatal").retry(maxAttempts: 3, backoff: .milliseconds(50))
                }
            )
            return (
                try await client.wait("r1", timeout: .seconds(20)), try await client.wait("r2", timeout: .seconds(20))
            )
        }
        #expect(ok.state == "completed" && ok.task("flaky")?.attempts == 2 && ok.task("flaky")?.result == 42)
        #expect(failed.state == "failed" && failed.task("fatal")?.attempts == 1)
        #expect(failed.task("fatal")?.error == TaskFailure(type: "bad_input", message: "never", retryable: false))
        let history = try await client.history("r1")
        let firstFailure = history.first { $0.type == "task_attempt_failed" }
        #expect(firstFailure?.fields["error"]?["type"] == "Flaky")
    }

    @Test func neverRunsMoreThanItsConcurrency() async throws {
        let f = try DaemonFixture()
        let worker = Worker(port: f.port, concurrency: 3)
        let tally = Tally()
        worker.register("work") { _ in
            tally.enter()
            defer { tally.leave() }
            try await Task.sleep(for: .milliseconds(40))
            return JSON.null
        }
        let client = try await f.client()
        defer { client.close() }
        let (record, peak) = try await running(worker) {
            _ = try await client.submit(
                Workflow(name: "wide", id: "wide") {
                    for i in 0..<12 { Step("t\(i)", handler: "work") }
                }
            )
            return (try await client.wait("wide", timeout: .seconds(20)), await worker.peakConcurrency())
        }
        #expect(record.state == "completed")
        #expect(tally.total == 12)
        #expect(tally.peak == 3 && peak == 3)
    }

    @Test func cancellingTheWorkflowCancelsTheRunningHandler() async throws {
        let f = try DaemonFixture()
        let worker = Worker(port: f.port)
        let started = Tally()
        let cancelled = Tally()
        worker.register("forever") { _ -> TaskOutcome in
            started.enter()
            do {
                try await Task.sleep(for: .seconds(60))
            } catch {
                cancelled.enter()
                throw error
            }
            return .result("too late")
        }
        let client = try await f.client()
        defer { client.close() }
        let record = try await running(worker) {
            _ = try await client.submit(Workflow(name: "long", id: "long") { Step("forever") })
            try await eventually("the handler to start") { started.total == 1 }
            _ = try await client.cancel("long", reason: "enough")
            try await eventually("the handler to be cancelled") { cancelled.total == 1 }
            return try await client.get("long")
        }
        #expect(record.state == "cancelled" && record.task("forever")?.state == "cancelled")
        let history = try await client.history("long")
        #expect(!history.contains { $0.type == "task_completed" || $0.type == "task_attempt_failed" })
    }

    @Test func gracefulStopFinishesRunningHandlers() async throws {
        let f = try DaemonFixture()
        let worker = Worker(port: f.port)
        let started = Tally()
        worker.register("slow") { _ in
            started.enter()
            try await Task.sleep(for: .milliseconds(300))
            return "finished"
        }
        let client = try await f.client()
        defer { client.close() }
        let run = Task { try await worker.run() }
        _ = try await client.submit(Workflow(name: "slow", id: "slow") { Step("slow") })
        try await eventually("the handler to start") { started.total == 1 }
        await worker.stop()
        try await run.value
        let record = try await client.get("slow")
        #expect(record.state == "completed" && record.task("slow")?.result == "finished")
        #expect(try await client.workers().isEmpty)
    }

    @Test func carriesOnAcrossADaemonCrash() async throws {
        let f = try DaemonFixture(fixedPort: true)
        let worker = Worker(port: f.port, name: "survivor", concurrency: 2)
        let started = Tally()
        worker.register("slow") { task in
            started.enter()
            try await Task.sleep(for: .milliseconds(400))
            return "slow-\(task.attempt)"
        }
        worker.register("quick") { _ in "quick" }
        let record = try await running(worker) {
            let client = try await f.client()
            _ = try await client.submit(
                Workflow(name: "before", id: "before") {
                    Step("slow")
                    Step("after", handler: "quick").deps("slow")
                }
            )
            try await eventually("the handler to start") { started.total == 1 }
            client.close()
            try f.crashAndRestart()
            let again = try await f.client()
            defer { again.close() }
            let before = try await again.wait("before", timeout: .seconds(20))
            _ = try await again.submit(Workflow(name: "after-restart", id: "later") { Step("quick") })
            #expect(try await again.wait("later", timeout: .seconds(20)).state == "completed")
            #expect(try await again.workers().map(\.name) == ["survivor"])
            return before
        }
        #expect(record.state == "completed", "\(f.daemon.stderr)")
        #expect(record.task("slow")?.result == "slow-1")  // the restart did not use up an attempt
        #expect(started.total == 2)
    }
}
