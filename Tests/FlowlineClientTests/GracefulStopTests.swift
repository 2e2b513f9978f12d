import Flowline
import FlowlineProtocol
import FlowlineTestSupport
import Foundation
import Testing

/// SPEC §8: a Swift worker process stopped with SIGTERM finishes what runs within its grace period, hands the
/// rest back without using an attempt, and exits 0.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct GracefulStopTests {
    /// `flowline-examples worker` beside the daemon: a worker process with a `sleep` handler.
    final class WorkerProcess {
        let process = Process()
        let output: String

        init(port: Int, grace: String, name: String) throws {
            let binary = URL(fileURLWithPath: try #require(DaemonProcess.binary()))
                .deletingLastPathComponent().appendingPathComponent("flowline-examples")
            output = NSTemporaryDirectory() + "flowline-worker-\(UUID().uuidString)"
            _ = FileManager.default.createFile(atPath: output, contents: nil)
            process.executableURL = binary
            process.arguments = ["worker", "--server", "127.0.0.1:\(port)", "--name", name, "--grace", grace]
            process.standardOutput = FileHandle(forWritingAtPath: output)
            process.standardError = process.standardOutput
            try process.run()
        }

        /// Sends `signal` and waits (at most `timeout` seconds) for the exit; its status, or nil if it did not exit.
        func signal(_ signal: Int32, timeout: Double) -> Int32? {
            kill(process.processIdentifier, signal)
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            guard !process.isRunning else { return nil }
            return process.terminationStatus
        }

        var printed: String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }

        deinit {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
            try? FileManager.default.removeItem(atPath: output)
        }
    }

    private func startAndWaitUntilRunning(
        _ f: DaemonFixture,
        grace: String,
        ms: Int
    ) async throws -> (
        WorkerProcess, Client
    ) {
        let worker = try WorkerProcess(port: f.port, grace: grace, name: "stopping")
        let client = try await f.client()
        try await eventually("the worker process to say hello") {
            try await client.workers().contains { $0.name == "stopping" }
        }
        _ = try await client.submit(
            .object([
                "name": "nap", "id": "nap",
                "tasks": [["id": "t", "handler": "sleep", "input": ["ms": .int(Int64(ms))]]],
            ])
        )
        try await eventually("the task to start") { try await client.get("nap").task("t")?.state == "running" }
        return (worker, client)
    }

    @Test func sigtermLetsTheRunningHandlerFinishAndExitsZero() async throws {
        let f = try DaemonFixture()
        let (worker, client) = try await startAndWaitUntilRunning(f, grace: "10", ms: 800)
        defer { client.close() }
        let status = worker.signal(SIGTERM, timeout: 10)
        #expect(status == 0, "\(worker.printed)")
        let record = try await client.wait("nap", timeout: .seconds(5))
        #expect(record.state == "completed" && record.task("t")?.attempts == 1)
        #expect(record.task("t")?.result == ["slept_ms": 800])
    }

    @Test func pastTheGracePeriodTheTaskIsHandedBackWithoutUsingAnAttempt() async throws {
        let f = try DaemonFixture()
        let (worker, client) = try await startAndWaitUntilRunning(f, grace: "0.3", ms: 60_000)
        defer { client.close() }
        let status = worker.signal(SIGTERM, timeout: 10)
        #expect(status == 0, "\(worker.printed)")
        let released = try await client.get("nap")
        #expect(released.state == "running" && released.task("t")?.state == "ready", "\(released)")
        #expect(released.task("t")?.attempts == 0)
        // The one attempt the task has (max_attempts 1) is still there for the next worker.
        let next = Worker(port: f.port, name: "next")
        next.register("sleep") { _ in .result(["slept_ms": 0]) }
        let record = try await running(next) { try await client.wait("nap", timeout: .seconds(10)) }
        #expect(record.state == "completed" && record.task("t")?.attempts == 1, "\(record)")
    }
}
