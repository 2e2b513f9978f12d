public import FlowlineProtocol
public import Logging
public import ServiceLifecycle
import Synchronization
import UnixSignals

/// A handler: runs one task and answers its outcome.
public typealias TaskHandler = @Sendable (TaskContext) async throws -> TaskOutcome

/// The handlers registered on a worker, by name; any thread.
final class HandlerTable: Sendable {
    /// One handler. Boxed because a closure stored as a dictionary's value is kept in the generic representation:
    /// it was wrapped in a reabstraction thunk going in and in another coming out, two more async calls per run.
    private final class Entry: Sendable {
        let body: TaskHandler
        init(_ body: @escaping TaskHandler) { self.body = body }
    }

    private let table = Mutex<[String: Entry]>([:])

    subscript(name: String) -> TaskHandler? {
        get { table.withLock { $0[name] }?.body }
        set { table.withLock { $0[name] = newValue.map(Entry.init) } }
    }

    /// The registered handlers' names, sorted: what `hello` offers (SPEC §8).
    var names: [String] { table.withLock { $0.keys.sorted() } }
}

/// Runs registered handlers for the tasks `flowlined` hands out on some queues.
///
/// ```swift
/// let worker = Worker(name: "etl-1", queues: ["default"], concurrency: 4)
/// worker.register("extract") { task in
///     let job: ExtractJob = try task.input()
///     return .result(try await extract(job))
/// }
/// try await worker.run()   // until stop()
/// ```
///
/// At most `concurrency` handlers run at once, each in its own Swift task. A `task.cancel` cancels that task, and
/// no outcome is sent for it. When the daemon goes away the worker connects again, waiting 50 ms doubling to 2 s
/// between tries, and carries on (the daemon hands lost leases out again). A thrown error becomes `task.fail`:
/// retryable, unless it is a `TaskFailureConvertible` (such as `TaskFailure`) that says otherwise.
///
/// A `Worker` is a `Service` (swift-service-lifecycle): in a `ServiceGroup` with `gracefulShutdownSignals:
/// [.sigterm, .sigint]` a SIGTERM stops it gracefully, as `runUntilSignalled()` does on its own. A graceful stop
/// sends `worker.quiet`, lets running handlers finish for up to `gracePeriod`, hands back (`task.release`)
/// whatever is left and returns: no attempt is used by a stop (SPEC §8).
public final class Worker: Service, Sendable {
    private enum State {
        case idle
        case running(LoopThread<WorkerEngine>)
        case stopped
    }

    private let settings: WorkerSettings
    private let handlers = HandlerTable()
    private let state = Mutex(State.idle)
    private let logger: Logger

    /// A worker for `queues`, running at most `concurrency` handlers at once. `gracePeriod` bounds how long a
    /// graceful `stop()` waits for running handlers before it hands their tasks back. `host` is a name
    /// (`localhost`) or an IPv4 or IPv6 literal.
    ///
    /// `runsHandlersInline` runs handlers on the worker's connection thread instead of the global concurrent
    /// executor: each run saves two thread hops (about 20–40 µs), which matters for short handlers and long chains.
    /// Only for handlers that return quickly or `await`: while one computes or blocks, no other handler runs and
    /// no heartbeat or outcome goes out.
    public init(
        host: String = "127.0.0.1",
        port: Int = 7420,
        token: String? = nil,
        name: String = "worker",
        queues: [String] = ["default"],
        concurrency: Int = 1,
        gracePeriod: Duration = .seconds(30),
        runsHandlersInline: Bool = false,
        logger: Logger = Logger(label: "flowline.worker")
    ) {
        self.logger = logger
        settings = WorkerSettings(
            endpoint: Endpoint(host: host, port: port, token: token, name: name),
            queues: queues,
            concurrency: max(1, concurrency),
            gracePeriod: gracePeriod,
            runsHandlersInline: runsHandlersInline
        )
    }

    /// Registers (or replaces) the handler named `handler`; takes effect for the next run of it.
    public func register(_ handler: String, _ body: @escaping TaskHandler) {
        handlers[handler] = body
    }

    /// Registers a handler whose value is the task's result (any `Encodable`, `JSON` included).
    public func register<Value: Encodable & SendableMetatype>(
        _ handler: String,
        _ body: @escaping @Sendable (TaskContext) async throws -> Value
    ) {
        handlers[handler] = { context in .result(try JSON(encoding: try await body(context))) }
    }

    /// Registers a handler that receives its input decoded as `Input` (a mismatch fails the task for good) and
    /// whose value is the task's result.
    public func register<Input: Decodable & SendableMetatype, Value: Encodable & SendableMetatype>(
        _ handler: String,
        input: Input.Type,
        _ body: @escaping @Sendable (Input, TaskContext) async throws -> Value
    ) {
        handlers[handler] = { context in
            .result(try JSON(encoding: try await body(try context.input(as: Input.self), context)))
        }
    }

    /// Connects and runs tasks until `stop()` or, inside a `ServiceGroup`, its graceful shutdown; returns when the
    /// worker has stopped. Throws only when the daemon refuses the worker (`.rpc(.unauthorized, ...)` for a bad
    /// token); lost connections are retried.
    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await runUntilStopped()
        } onGracefulShutdown: {
            Task { await self.stop(graceful: true) }
        }
    }

    /// Runs until SIGTERM or SIGINT, then stops gracefully (SPEC §8): for a worker process with nothing else to
    /// run. Returns once stopped; the process may then exit 0.
    public func runUntilSignalled() async throws {
        let group = ServiceGroup(services: [self], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }

    private func runUntilStopped() async throws {
        logger.info("worker starting", metadata: ["name": "\(settings.endpoint.name)", "queues": "\(settings.queues)"])
        defer { logger.info("worker stopped", metadata: ["name": "\(settings.endpoint.name)"]) }
        let settings = self.settings
        let handlers = self.handlers
        let thread = try await LoopThread.start(name: "flowline-worker") { loop, thread in
            WorkerEngine(loop: loop, thread: thread, settings: settings, handlers: handlers)
        }
        let proceed = state.withLock { state in
            guard case .idle = state else { return false }
            state = .running(thread)
            return true
        }
        guard proceed else {
            thread.post { $0.stop(graceful: false) {} }
            return
        }
        let result: Result<Void, FlowlineError> = await withCheckedContinuation { continuation in
            let posted = thread.post { engine in engine.start { continuation.resume(returning: $0) } }
            if !posted { continuation.resume(returning: .success(())) }
        }
        state.withLock { $0 = .stopped }
        try result.get()
    }

    /// Stops the worker. Graceful (the default): handlers already running finish, for at most the shutdown
    /// grace, and their outcomes reach the daemon; tasks not started go back to it. Otherwise running handlers
    /// are cancelled and the connection closes at once (the daemon runs their tasks again). Returns once stopped.
    public func stop(graceful: Bool = true) async {
        let thread: LoopThread<WorkerEngine>? = state.withLock { state in
            switch state {
            case .idle:
                state = .stopped
                return nil
            case .running(let thread): return thread
            case .stopped: return nil
            }
        }
        guard let thread else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let posted = thread.post { engine in engine.stop(graceful: graceful) { continuation.resume() } }
            if !posted { continuation.resume() }
        }
    }

    /// The most handlers that were ever in flight at once (for checking the concurrency bound).
    public func peakConcurrency() async -> Int {
        let thread: LoopThread<WorkerEngine>? = state.withLock { state in
            if case .running(let thread) = state { return thread }
            return nil
        }
        guard let thread else { return 0 }
        return await withCheckedContinuation { continuation in
            let posted = thread.post { engine in continuation.resume(returning: engine.peakInFlight) }
            if !posted { continuation.resume(returning: 0) }
        }
    }
}
