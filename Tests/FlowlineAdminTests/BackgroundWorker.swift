import FlowlineProtocol
import FlowlineTestSupport
import Foundation

/// A worker on a thread of its own that completes every task after `delay` seconds (or fails, for good, the
/// tasks named in `failing`), so a test can run the blocking `flowline` subprocess meanwhile.
final class BackgroundWorker: @unchecked Sendable {
    // `lock` guards `isStopping` and `failure`, shared by the worker thread and the test.
    private let lock = NSLock()
    private let done = DispatchSemaphore(value: 0)
    private var isStopping = false
    private var failure: (any Error)?

    init(port: Int, name: String = "w1", delay: Double = 0.05, failing: Set<String> = []) {
        let ready = DispatchSemaphore(value: 0)
        let thread = Thread { [self] in
            do {
                let worker = try LineClient.worker(port: port, name: name)
                ready.signal()
                while !lock.withLock({ isStopping }) {
                    let task: JSON
                    do {
                        task = try worker.nextTask(timeout: 0.1)
                    } catch is LineClient.Timeout {
                        continue
                    }
                    usleep(UInt32(delay * 1_000_000))
                    if failing.contains(task["task_id"]?.stringValue ?? "") {
                        try worker.fail(task, retryable: false)
                    } else {
                        try worker.complete(task, result: #"{"by":"\#(name)"}"#)
                    }
                }
            } catch {
                lock.withLock { failure = error }
                ready.signal()
            }
            done.signal()
        }
        thread.start()
        // The worker is registered before the test goes on, so `workers` and dispatch see it.
        _ = ready.wait(timeout: .now() + 10)
    }

    /// Stops the worker (at most 10 s) and rethrows what went wrong on its thread.
    func stop() throws {
        lock.withLock { isStopping = true }
        _ = done.wait(timeout: .now() + 10)
        if let failure = lock.withLock({ failure }) { throw failure }
    }
}
