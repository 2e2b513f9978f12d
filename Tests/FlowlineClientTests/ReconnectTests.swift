import Flowline
import FlowlineTestSupport
import Foundation
import Testing

/// SPEC §8: a `Client` outlives a daemon SIGKILL and restart: calls wait for the reconnect (up to a bound), and those
/// whose answer was lost are re-sent when that is safe.
@Suite(.timeLimit(.minutes(2)))
struct ReconnectTests {
    @Test func aWaitOutlivesADaemonSigkillAndRestart() async throws {
        let f = try DaemonFixture(fixedPort: true)
        let client = try await f.client()
        defer { client.close() }
        _ = try await client.submit(Workflow(name: "survives", id: "survives") { Step("h") })
        let waiting = Task { try await client.wait("survives", timeout: .seconds(20)) }
        try await Task.sleep(for: .milliseconds(300))  // the wait is in flight
        f.daemon.crash()
        try await Task.sleep(for: .milliseconds(300))  // the client finds no daemon and backs off
        try f.restart()
        let worker = Worker(port: f.port, name: "after-restart")
        worker.register("h") { _ in "done after restart" }
        let record = try await running(worker) { try await waiting.value }
        #expect(record.state == "completed")
        #expect(record.task("h")?.result == "done after restart")
    }

    @Test func callsMadeWhileTheDaemonIsDownWaitForIt() async throws {
        let f = try DaemonFixture(fixedPort: true)
        let client = try await f.client()
        defer { client.close() }
        _ = try await client.stats()
        f.daemon.crash()
        async let stats = client.stats()
        async let submitted = client.submit(Workflow(name: "later", id: "later") { Step("h") })
        try await Task.sleep(for: .milliseconds(500))
        try f.restart()
        #expect(try await stats["workflows"] != nil)
        #expect(try await submitted.workflowID == "later")
        #expect(try await client.get("later").state == "running")
    }

    @Test func theBoundReachesTheCaller() async throws {
        let f = try DaemonFixture()
        let client = try await Client(port: f.port, reconnect: .milliseconds(500))
        defer { client.close() }
        _ = try await client.stats()
        f.daemon.crash()
        let started = ContinuousClock.now
        do {
            _ = try await client.stats()
            Issue.record("answered with no daemon")
        } catch {
            guard case .connection = error else { throw error }
        }
        let waited = ContinuousClock.now - started
        #expect(waited > .milliseconds(200) && waited < .seconds(3), "\(waited)")
    }

    @Test func onlyWhatIsSafeIsResentWhenItsAnswerIsLost() async throws {
        let f = try DaemonFixture(fixedPort: true)
        let client = try await f.client()
        defer { client.close() }
        _ = try await client.submit(Workflow(name: "first", id: "first") { Step("h") })
        kill(f.daemon.pid, SIGSTOP)  // requests are sent and never answered
        async let got = client.get("first")
        async let resolved = client.resolve(key: "lost", result: "once")
        async let unsafe = client.submit(Workflow(name: "no-id") { Step("h") })
        try await Task.sleep(for: .milliseconds(300))  // all three are on the wire
        try f.crashAndRestart()  // SIGKILL ends a stopped process too
        #expect(try await got.name == "first")
        #expect(try await resolved == 0, "re-sent: kept for the first await")
        do {
            _ = try await unsafe
            Issue.record("a submit without an id was re-sent")
        } catch let error as FlowlineError {
            guard case .connection = error else { throw error }
        }
    }

    @Test func aResolutionIDAppliesOnce() async throws {
        let f = try DaemonFixture()
        let client = try await f.client()
        defer { client.close() }
        #expect(try await client.resolve(key: "k", result: "first", resolutionID: "r") == 0)
        #expect(try await client.resolve(key: "k", result: "second", resolutionID: "r") == 0)
        let history = try await client.call("stats", .object([:]))
        // Two events for the first (kept, id remembered), none for the re-send.
        #expect(history["journal"]?["last_seq"] == .int(2), "\(history)")
    }
}
