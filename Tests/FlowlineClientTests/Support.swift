import Flowline
import FlowlineProtocol
import FlowlineTestSupport
import Foundation
import Synchronization
import Testing

/// A daemon of a test's own, with a fresh data directory; `fixedPort` keeps its address across restarts.
final class DaemonFixture {
    let directory: TemporaryDirectory
    private(set) var daemon: DaemonProcess
    private let listen: String

    init(fixedPort: Bool = false, arguments: [String] = []) throws {
        directory = try TemporaryDirectory("flowline-client")
        listen = fixedPort ? "127.0.0.1:\(try DaemonProcess.freePort())" : "127.0.0.1:0"
        daemon = try DaemonProcess(data: directory.path + "/data", listen: listen, extraArguments: arguments)
    }

    var port: Int { daemon.port }

    func client() async throws -> Client { try await Client(port: port) }

    /// SIGKILLs the daemon and starts a new one on the same data directory and address.
    func crashAndRestart() throws {
        daemon.crash()
        try restart()
    }

    /// Starts a new daemon on the same data directory and address (after `daemon.crash()`).
    func restart() throws {
        daemon = try DaemonProcess(data: directory.path + "/data", listen: listen)
    }
}

/// A counter handlers share across tasks.
final class Tally: Sendable {
    private let state = Mutex((now: 0, peak: 0, total: 0))

    func enter() {
        state.withLock {
            $0.now += 1
            $0.total += 1
            $0.peak = max($0.peak, $0.now)
        }
    }
    func leave() { state.withLock { $0.now -= 1 } }
    var now: Int { state.withLock { $0.now } }
    var peak: Int { state.withLock { $0.peak } }
    var total: Int { state.withLock { $0.total } }
}

/// Waits until `condition` holds, polling every 10 ms, for at most `timeout`.
func eventually(
    _ what: String,
    timeout: Duration = .seconds(10),
    _ condition: @Sendable () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("timed out waiting for \(what)")
            throw FlowlineError.timeout
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}

/// Runs `worker` in the background for the duration of `body`, then stops it gracefully.
func running<T>(_ worker: Worker, _ body: () async throws -> T) async throws -> T {
    let run = Task { try await worker.run() }
    do {
        let value = try await body()
        await worker.stop()
        try await run.value
        return value
    } catch {
        await worker.stop(graceful: false)
        _ = try? await run.value
        throw error
    }
}
