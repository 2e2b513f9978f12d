public import Flowline
import FlowlineProtocol

/// Runs an example the way its seed does: a worker with its handlers in this process, one submitted run, a wait
/// for the end, a check of the outcome.
public enum ExampleRunner {
    /// Starts a worker for `example` on `server`, submits its workflow (as `id`, when given), waits for it to end
    /// (for at most `timeout`, across daemon restarts), stops the worker and returns the record and its history.
    ///
    /// A daemon that goes away in the middle is waited for: the worker reconnects by itself, and the wait is
    /// asked again once the daemon is back on the same address. `say` gets the lines to show.
    public static func run(
        _ example: some Example,
        on server: ServerAddress,
        id: String? = nil,
        timeout: Duration = .seconds(60),
        say: @escaping @Sendable (String) -> Void = { print($0) }
    ) async throws -> (record: WorkflowRecord, history: [HistoryEvent]) {
        var workflow = example.workflow
        if let id { workflow.id = id }
        let worker = Worker(
            host: server.host,
            port: server.port,
            token: server.token,
            name: "swift-\(workflow.name)",
            queues: example.queues,
            concurrency: 4,
            gracePeriod: .seconds(5)
        )
        example.register(on: worker)
        let running = Task { try await worker.run() }
        defer { running.cancel() }
        do {
            let client = try await server.connect(name: "swift-examples")
            defer { client.close() }
            let submission = try await client.submit(workflow)
            say("submitted \(submission.workflowID) (\(workflow.name))")
            let record = try await waitForEnd(of: submission.workflowID, client: client, timeout: timeout)
            let history = try await client.history(submission.workflowID)
            await worker.stop()
            try await running.value
            say("workflow \(record.workflowID) ended \(record.state)")
            for task in record.tasks {
                let outcome =
                    task.error.map { "error \($0)" } ?? "result=\(String(describing: task.result ?? .null).clipped(60))"
                say("  \(task.id.padding(32)) \(task.state.padding(13)) attempts=\(task.attempts) \(outcome)")
            }
            return (record, history)
        } catch {
            await worker.stop(graceful: false)
            throw error
        }
    }

    /// Runs `example` and checks its outcome; returns the check's lines (already said).
    public static func runAndCheck(
        _ example: some Example,
        on server: ServerAddress,
        id: String? = nil,
        timeout: Duration = .seconds(60),
        say: @escaping @Sendable (String) -> Void = { print($0) }
    ) async throws -> (record: WorkflowRecord, summary: [String]) {
        let (record, history) = try await run(example, on: server, id: id, timeout: timeout, say: say)
        let summary = try example.check(record, history: history)
        summary.forEach(say)
        return (record, summary)
    }

    /// `workflow.wait` until the workflow has ended, asking again when the connection drops (a daemon crash or
    /// restart) until `timeout` has passed.
    static func waitForEnd(of workflowID: String, client: Client, timeout: Duration) async throws -> WorkflowRecord {
        let deadline = ContinuousClock.now + timeout
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { throw ExampleFailure("workflow \(workflowID) did not end within \(timeout)") }
            do {
                let record = try await client.wait(workflowID, timeout: min(left, .seconds(5)))
                if record.isFinished { return record }
            } catch {
                guard case .connection = error else { throw error }
                try await Task.sleep(for: .milliseconds(100))  // the next call connects again
            }
        }
    }
}

extension String {
    /// The string cut to `width` characters, with an ellipsis when it was longer.
    fileprivate func clipped(_ width: Int) -> String { count <= width ? self : prefix(width - 1) + "…" }

    /// The string padded with spaces to `width` characters.
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
