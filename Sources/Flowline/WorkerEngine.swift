import FlowlineProtocol
import FlowlineUV

/// What a `Worker` is configured with.
struct WorkerSettings: Sendable {
    var endpoint: Endpoint
    var queues: [String]
    var concurrency: Int
    var gracePeriod: Duration
    var runsHandlersInline = false
    var reconnectBackoff: ClosedRange<Duration> = .milliseconds(50) ... .seconds(2)
}

/// The loop-thread half of a `Worker`: the connection and its reconnects, the leases being run and their
/// handlers' Swift tasks, the concurrency bound and the shutdown. Loop thread only.
final class WorkerEngine {
    private enum Phase { case idle, running, draining, stopped }

    /// One lease being run: its handler's Swift task and the connection it came on.
    private struct Run {
        var task: Task<Void, Never>
        var generation: Int
    }

    private let loop: EventLoop
    private let thread: LoopThread<WorkerEngine>
    private let settings: WorkerSettings
    private let handlers: HandlerTable
    /// Where handlers run when they run inline: this loop's thread (nil: the global concurrent executor).
    private let executor: LoopExecutor?
    private var phase = Phase.idle
    private var peer: RPCPeer?
    /// Counts connections, so that a handler finishing after its connection dropped sends nothing.
    private var generation = 0
    private var runs: [String: Run] = [:]
    /// Handlers whose Swift task has not ended, cancelled ones included: never more than `concurrency`.
    private var inFlight = 0
    /// `task.run`s received while `concurrency` handlers were still in flight (only after a reconnect).
    private var backlog: [TaskContext] = []
    private var backoff: Duration
    private var reconnectTimer: Timer?
    private var graceTimer: Timer?
    private var onEnd: ((Result<Void, FlowlineError>) -> Void)?
    private var stopWaiters: [() -> Void] = []
    /// The highest `inFlight` seen, for tests of the bound.
    private(set) var peakInFlight = 0

    init(loop: EventLoop, thread: LoopThread<WorkerEngine>, settings: WorkerSettings, handlers: HandlerTable) {
        self.loop = loop
        self.thread = thread
        self.settings = settings
        self.handlers = handlers
        executor = settings.runsHandlersInline ? try? LoopExecutor(loop: loop) : nil
        backoff = settings.reconnectBackoff.lowerBound
    }

    // MARK: - Connecting

    /// Connects and keeps connecting until `stop`; `onEnd` runs once, when the worker has stopped, or with the
    /// error when the daemon refuses the worker for good (a bad token).
    func start(_ onEnd: @escaping (Result<Void, FlowlineError>) -> Void) {
        guard phase == .idle else { return onEnd(.failure(.connection("the worker is already running"))) }
        self.onEnd = onEnd
        phase = .running
        connect()
    }

    private func connect() {
        var extra: JSONObject = [
            "queues": .array(settings.queues.map(JSON.string)), "concurrency": .int(Int64(settings.concurrency)),
        ]
        // The daemon then routes only these handlers' tasks here (SPEC §8), as they stand at each connect: a
        // handler registered later is offered from the next reconnect. With none registered, no list (`[]` is an
        // error), and the worker takes anything.
        let names = handlers.names
        if !names.isEmpty { extra["handlers"] = .array(names.map(JSON.string)) }
        RPCPeer.open(
            loop: loop,
            host: settings.endpoint.host,
            port: settings.endpoint.port,
            hello: settings.endpoint.hello(role: "worker", extra: extra),
            timeout: settings.endpoint.connectTimeout
        ) { [self] result in
            switch result {
            case .success(let peer): connected(peer)
            case .failure(.rpc(let code, let message, let data)) where code == .unauthorized || code == .invalidParams:
                finish(.failure(.rpc(code, message: message, data: data)))
            case .failure: scheduleReconnect()
            }
        }
    }

    private func connected(_ peer: RPCPeer) {
        guard phase == .running else { return peer.close() }
        self.peer = peer
        generation += 1
        backoff = settings.reconnectBackoff.lowerBound
        peer.onRequest = { [self] method, params, _ in received(method, params) }
        peer.onClose = { [self] _ in disconnected() }
    }

    private func disconnected() {
        peer = nil
        // The daemon ended every lease of that connection; their handlers' work can no longer be reported.
        for run in runs.values { run.task.cancel() }
        runs = [:]
        backlog = []
        switch phase {
        case .running: scheduleReconnect()
        case .draining: finish(.success(()))
        case .idle, .stopped: break
        }
    }

    private func scheduleReconnect() {
        guard phase == .running else { return }
        if reconnectTimer == nil { reconnectTimer = try? Timer(loop: loop) }
        guard let reconnectTimer else { return finish(.failure(.connection("cannot start a timer"))) }
        let delay = backoff
        backoff = min(backoff * 2, settings.reconnectBackoff.upperBound)
        reconnectTimer.start(afterMilliseconds: delay.milliseconds) { [self] in connect() }
    }

    // MARK: - Running tasks

    private func received(_ method: String, _ params: JSON) {
        switch method {
        case "task.run": accept(params)
        case "task.cancel": cancel(lease: params["lease"]?.stringValue ?? "")
        default: break
        }
    }

    private func accept(_ params: JSON) {
        let thread = self.thread
        let generation = self.generation
        let context = TaskContext(params: params) { lease, progress in
            thread.post { engine in engine.heartbeat(lease: lease, generation: generation, progress: progress) }
        }
        guard let context else {
            if let lease = params["lease"]?.stringValue {
                send(.fail(type: "protocol", message: "task.run without its required members", retryable: true), lease)
            }
            return
        }
        // While draining, new runs are not started: they go back with task.release, which uses up no attempt.
        if phase == .draining, let peer {
            peer.call("task.release", .object(["lease": .string(context.leaseID)])) { [self] _ in drainIfDone() }
        } else if phase == .running && inFlight < settings.concurrency {
            run(context)
        } else {
            backlog.append(context)
        }
    }

    private func run(_ context: TaskContext) {
        guard let handler = handlers[context.handler] else {
            let message = "no handler '\(context.handler)' on worker '\(settings.endpoint.name)'"
            return send(.fail(type: "unknown_handler", message: message, retryable: true), context.leaseID)
        }
        inFlight += 1
        peakInFlight = max(peakInFlight, inFlight)
        let thread = self.thread
        let generation = self.generation
        let task: Task<Void, Never>
        if let executor {
            // An inline handler starts at once, here on the loop thread, instead of having its first job queued on
            // the loop's executor for the next turn; once it suspends, it resumes on that executor as before. Its
            // outcome still arrives through `post`, after this returns.
            task = Task.immediate(executorPreference: executor) {
                await perform(handler, context, thread: thread, generation: generation)
            }
        } else {
            task = Task(executorPreference: nil) {
                await perform(handler, context, thread: thread, generation: generation)
            }
        }
        runs[context.leaseID] = Run(task: task, generation: generation)
    }

    fileprivate func finished(lease: String, generation: Int, _ outcome: TaskOutcome) {
        inFlight -= 1
        // A run that was cancelled, or whose connection dropped, has no lease left to answer for.
        // One hash of the lease, not two: removed, and put back in the case that cannot send.
        if generation == self.generation, let run = runs.removeValue(forKey: lease) {
            if run.generation == generation {
                send(outcome, lease)
            } else {
                runs[lease] = run
            }
        }
        while phase == .running && inFlight < settings.concurrency && !backlog.isEmpty {
            run(backlog.removeFirst())
        }
        drainIfDone()
    }

    private func cancel(lease: String) {
        backlog.removeAll { $0.leaseID == lease }
        guard let run = runs.removeValue(forKey: lease) else { return }
        run.task.cancel()
        drainIfDone()
    }

    private func heartbeat(lease: String, generation: Int, progress: JSON?) {
        guard let peer, generation == self.generation, runs[lease] != nil else { return }
        var params: JSONObject = ["lease": .string(lease)]
        if let progress { params["progress"] = progress }
        peer.notify("task.heartbeat", .object(params))
    }

    /// Sends an outcome as a request, so that a graceful stop can wait for the daemon to have taken it.
    private func send(_ outcome: TaskOutcome, _ lease: String) {
        guard let peer else { return }
        peer.call(
            outcome.method,
            writingParams: { outcome.writeParams(lease: lease, into: &$0) },
            { [self] _ in drainIfDone() }
        )
    }

    // MARK: - Stopping

    /// Stops the worker. Graceful: runs already started finish (for at most the shutdown grace) and their
    /// outcomes are acknowledged before the connection closes; runs not started go back to the daemon.
    func stop(graceful: Bool, _ done: @escaping () -> Void) {
        guard phase != .stopped else { return done() }
        stopWaiters.append(done)
        guard phase != .draining else { return }
        guard graceful, phase == .running, peer != nil else { return finish(.success(())) }
        phase = .draining
        // Ask for nothing more, and hand back what arrived but has not started.
        peer?.call("worker.quiet", .object([:])) { [self] _ in drainIfDone() }
        for context in backlog {
            peer?.call("task.release", .object(["lease": .string(context.leaseID)])) { [self] _ in drainIfDone() }
        }
        backlog = []
        reconnectTimer?.stop()
        graceTimer = try? Timer(loop: loop)
        graceTimer?.start(afterMilliseconds: settings.gracePeriod.milliseconds) { [self] in releaseRunning() }
        drainIfDone()
    }

    /// The grace period is over: the handlers still running are cancelled and their leases handed back with
    /// `task.release`, so that the stop uses up no attempt (SPEC §8); the worker stops once the daemon has
    /// answered those, or after 5 s more at worst.
    private func releaseRunning() {
        guard phase == .draining else { return }
        guard let peer, !runs.isEmpty else { return finish(.success(())) }
        let leases = runs.keys.sorted()
        for lease in leases {
            runs.removeValue(forKey: lease)?.task.cancel()
            peer.call("task.release", .object(["lease": .string(lease)])) { [self] _ in drainIfDone() }
        }
        graceTimer?.start(afterMilliseconds: 5_000) { [self] in finish(.success(())) }
    }

    private func drainIfDone() {
        guard phase == .draining, runs.isEmpty, (peer?.pendingCount ?? 0) == 0 else { return }
        finish(.success(()))
    }

    private func finish(_ result: Result<Void, FlowlineError>) {
        guard phase != .stopped else { return }
        phase = .stopped
        for run in runs.values { run.task.cancel() }
        runs = [:]
        backlog = []
        reconnectTimer?.close()
        graceTimer?.close()
        executor?.close()
        peer?.close()
        peer = nil
        for job in thread.close() { job(self) }
        onEnd?(result)
        onEnd = nil
        let waiters = stopWaiters
        stopWaiters = []
        for done in waiters { done() }
    }
}

/// Runs `handler` in its Swift task and posts the outcome back to the loop thread.
private func perform(
    _ handler: TaskHandler,
    _ context: TaskContext,
    thread: LoopThread<WorkerEngine>,
    generation: Int
) async {
    let outcome: TaskOutcome
    do {
        outcome = try await handler(context)
    } catch {
        outcome = .fail(TaskFailure(thrown: error))
    }
    // If the loop has closed, the worker stopped and the outcome has nowhere to go.
    thread.post { engine in engine.finished(lease: context.leaseID, generation: generation, outcome) }
}
