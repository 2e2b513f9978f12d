public import FlowlineProtocol
import Foundation

/// A connection to `flowlined` for submitting, watching and steering workflows, and for settling futures.
///
/// Every call is `async` and safe from any task: the requests go to one dedicated event-loop thread, which
/// resumes each caller when the answer with its JSON-RPC id arrives. Answers may come out of order, so a pending
/// `wait` does not hold up other calls.
///
/// One `Client` outlives daemon restarts (SPEC §8). When the connection drops, the client reconnects with backoff
/// (50 ms doubling to 2 s) and calls made meanwhile wait for it; a call fails with `.connection` only after it has
/// waited `reconnect` (default 60 s) for a connection. A call whose answer was lost with the connection is sent
/// again after the reconnect when that is safe: reads (`get`, `list`, `wait`, `history`, `stats`, `workers`),
/// `cancel`, `resolve`/`reject` (which always carry a `resolution_id`, so a re-sent one changes nothing) and a
/// submit of a document with an `id`; any other call fails with `.connection`, since it may or may not have been
/// taken. A `wait` sent again asks for what is left of its timeout.
public final class Client: Sendable {
    private let thread: LoopThread<ClientEngine>

    /// Connects to the daemon and says `hello` (with `token` when the daemon has one).
    ///
    /// Tries once: throws `.connection` when the daemon cannot be reached, `.rpc(.unauthorized, ...)` for a bad
    /// token, and `.timeout` when the connection is not made within 10 seconds. `host` may be a name
    /// (`localhost`), an IPv4 address or an IPv6 one (`::1`). `reconnect` bounds how long a later call waits for
    /// a connection.
    public init(
        host: String = "127.0.0.1",
        port: Int = 7420,
        token: String? = nil,
        name: String = "client",
        reconnect: Duration = .seconds(60)
    ) async throws(FlowlineError) {
        var settings = Endpoint(host: host, port: port, token: token, name: name)
        settings.reconnectBound = reconnect
        let endpoint = settings
        thread = try await LoopThread.start(name: "flowline-client") { loop, thread in
            ClientEngine(loop: loop, thread: thread, endpoint: endpoint)
        }
        let thread = self.thread
        let opened: Result<Void, FlowlineError> = await withCheckedContinuation { continuation in
            let posted = thread.post { engine in engine.connect { continuation.resume(returning: $0) } }
            if !posted { continuation.resume(returning: .failure(.connection("the client is closed"))) }
        }
        do {
            try opened.get()
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    // MARK: - Workflows

    /// Submits a workflow document (SPEC §2). Submitting an `id` that exists returns it with `created == false`.
    /// An invalid document throws `.rpc(.invalidParams, ...)` whose `path` names the first bad field.
    public func submit(_ document: JSON) async throws(FlowlineError) -> Submission {
        try Submission(json: try await call("workflow.submit", document))
    }

    /// Submits a workflow built in Swift.
    public func submit(_ workflow: Workflow) async throws(FlowlineError) -> Submission {
        try await submit(workflow.document)
    }

    /// The workflow's record; `.rpc(.notFound, ...)` for an unknown id.
    public func get(_ workflowID: String) async throws(FlowlineError) -> WorkflowRecord {
        try WorkflowRecord(json: try await call("workflow.get", ["workflow_id": .string(workflowID)]))
    }

    /// Waits until the workflow has ended (its reverts too) and returns its record; with `timeout`, returns the
    /// record as it stands once that has passed.
    public func wait(_ workflowID: String, timeout: Duration? = nil) async throws(FlowlineError) -> WorkflowRecord {
        let deadline = timeout.map { ContinuousClock.now + $0 }
        // Made again when the wait is re-sent after a reconnect: it asks for what is left of its timeout.
        let params: @Sendable () -> JSON = {
            var params: JSONObject = ["workflow_id": .string(workflowID)]
            if let deadline { params["timeout_s"] = max(.zero, deadline - ContinuousClock.now).jsonSeconds }
            return .object(params)
        }
        return try WorkflowRecord(json: try await call("workflow.wait", params))
    }

    /// One page of workflows, newest first, optionally filtered by state and name. Pass `next` as `after` for the
    /// following page.
    public func list(
        state: String? = nil,
        name: String? = nil,
        limit: Int? = nil,
        after: String? = nil
    ) async throws(FlowlineError) -> WorkflowPage {
        var params: JSONObject = [:]
        if let state { params["state"] = .string(state) }
        if let name { params["name"] = .string(name) }
        if let limit { params["limit"] = .int(Int64(limit)) }
        if let after { params["after"] = .string(after) }
        return try WorkflowPage(json: try await call("workflow.list", .object(params)))
    }

    /// Cancels the workflow (running tasks get `task.cancel`); with `revert`, runs its reverts. Returns the record.
    public func cancel(
        _ workflowID: String,
        reason: String? = nil,
        revert: Bool = false
    ) async throws(FlowlineError) -> WorkflowRecord {
        var params: JSONObject = ["workflow_id": .string(workflowID), "revert": .bool(revert)]
        if let reason { params["reason"] = .string(reason) }
        return try WorkflowRecord(json: try await call("workflow.cancel", .object(params)))
    }

    /// The workflow's journal events, oldest first.
    public func history(_ workflowID: String) async throws(FlowlineError) -> [HistoryEvent] {
        let result = try await call("workflow.history", ["workflow_id": .string(workflowID)])
        guard let events = result["events"]?.arrayValue else {
            throw .protocolViolation("workflow.history: events must be an array")
        }
        var history: [HistoryEvent] = []
        for event in events { history.append(try HistoryEvent(json: event)) }
        return history
    }

    // MARK: - Futures

    /// Resolves the future `key` with `result`; returns how many waiting tasks it completed (0: kept for later).
    ///
    /// `resolutionID` (a fresh UUID when nil) makes a re-send change nothing: the daemon answers a resolution id it
    /// has applied to the key with the first answer's count. The client re-sends with it when the answer was lost.
    public func resolve(key: String, result: JSON, resolutionID: String? = nil) async throws(FlowlineError) -> Int {
        let params: JSON = [
            "key": .string(key), "result": result, "resolution_id": .string(resolutionID ?? UUID().uuidString),
        ]
        return try matched(try await call("future.resolve", params))
    }

    /// Resolves the future `key` with an encodable value.
    public func resolve(
        key: String,
        encoding value: some Encodable,
        resolutionID: String? = nil
    ) async throws(FlowlineError) -> Int {
        try await resolve(key: key, result: try JSON(encoding: value), resolutionID: resolutionID)
    }

    /// Rejects the future `key`; returns how many waiting tasks it failed (0: kept for later). `resolutionID` as
    /// for `resolve`.
    public func reject(key: String, error: String, resolutionID: String? = nil) async throws(FlowlineError) -> Int {
        let params: JSON = [
            "key": .string(key), "error": .string(error), "resolution_id": .string(resolutionID ?? UUID().uuidString),
        ]
        return try matched(try await call("future.reject", params))
    }

    private func matched(_ result: JSON) throws(FlowlineError) -> Int {
        guard let n = result["matched"]?.int64Value else { throw .protocolViolation("matched must be an integer") }
        return Int(n)
    }

    // MARK: - The daemon

    /// The connected workers.
    public func workers() async throws(FlowlineError) -> [WorkerRecord] {
        let result = try await call("workers.list", .object([:]))
        guard let items = result["workers"]?.arrayValue else {
            throw .protocolViolation("workers.list: workers must be an array")
        }
        var workers: [WorkerRecord] = []
        for item in items { workers.append(try WorkerRecord(json: item)) }
        return workers
    }

    /// `stats`: workflows and tasks by state, journal facts, uptime.
    public func stats() async throws(FlowlineError) -> JSON {
        try await call("stats", .object([:]))
    }

    /// Calls any method with `params` and returns its raw result: the escape hatch for methods this library does
    /// not wrap.
    public func call(_ method: String, _ params: JSON) async throws(FlowlineError) -> JSON {
        try await call(method) { params }
    }

    /// `call`, with params made again for each send.
    private func call(_ method: String, _ params: @escaping @Sendable () -> JSON) async throws(FlowlineError) -> JSON {
        let thread = self.thread
        let result: Result<JSON, FlowlineError> = await withCheckedContinuation { continuation in
            let posted = thread.post { engine in
                engine.call(method, params) { continuation.resume(returning: $0) }
            }
            if !posted { continuation.resume(returning: .failure(.connection("the client is closed"))) }
        }
        return try result.get()
    }

    /// Closes the connection and its thread; calls still waiting fail with `.connection`. Idempotent.
    public func close() {
        thread.post { engine in engine.close() }
    }
}
