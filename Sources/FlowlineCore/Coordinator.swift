/// The deterministic heart of Flowline: commands in, events and effects out. No I/O, no clock.
public struct Coordinator: Sendable {
    public internal(set) var state = CoordinatorState()
    var session = Session()

    public init() {}

    /// Decides what `command` means at `now`. The same state, command and time always give the same decision.
    public mutating func handle(_ command: Command, at now: Instant) -> Decision {
        var decision = Decision()
        switch command {
        case .submit(let spec, let request): submit(spec, request: request, at: now, into: &decision)
        case .wait(let w, let timeout, let request): wait(w, timeout: timeout, request: request, at: now, into: &decision)
        case .cancel(let w, let reason, _, let request):
            // TODO(#3): `revert: true` runs the reverts of the completed tasks.
            cancel(w, reason: reason, request: request, at: now, into: &decision)
        case .connectWorker(let id, let name, let queues, let concurrency):
            connect(id, name: name, queues: queues, concurrency: concurrency, at: now)
        case .disconnect(let id): disconnect(id, at: now, into: &decision)
        case .complete(let lease, let result, let from, let request):
            complete(lease, result: result, from: from, request: request, at: now, into: &decision)
        case .fail(let lease, let error, let from, let request):
            guard let ref = owned(lease, by: from, request: request, into: &decision) else { break }
            session.release(lease)
            reply(request, .ok, into: &decision)
            attemptFailed(ref, error: error, at: now, into: &decision)
        case .heartbeat(let lease, let progress, let from, let request):
            heartbeat(lease, progress: progress, from: from, request: request, at: now, into: &decision)
        case .fireTimer(let timer): fire(timer, at: now, into: &decision)
        }
        dispatchTouchedQueues(at: now, into: &decision)
        return decision
    }

    /// Folds one committed event into the state. Total and effect-free: replay calls only this.
    public mutating func apply(_ event: Event) { state.fold(event) }

    /// After replay: gives back the leases that were open when the daemon stopped (without using up their
    /// attempts) and re-arms every durable timer.
    public mutating func resume(at now: Instant) -> Decision {
        var decision = Decision()
        session = Session()
        state.rebuildQueues()
        for (lease, ref) in state.leases.sorted(by: { $0.key < $1.key }) {
            guard let task = state.task(ref) else { continue }
            _ = lease
            record(.leaseReleased(ref.workflow, task.id, at: now), into: &decision)
        }
        for id in state.order {
            guard let workflow = state.workflows[id], !workflow.state.isTerminal else { continue }
            if let timeout = workflow.timeout {
                decision.effects.append(.armTimer(.workflowTimeout(id), at: workflow.createdAt + timeout))
            }
            for task in workflow.tasks where task.state == .ready {
                if let retryAt = task.retryAt { decision.effects.append(.armTimer(.retry(id, task.id), at: retryAt)) }
            }
        }
        state.touchedQueues.removeAll()
        return decision
    }

    /// The connected workers, oldest first.
    public var workers: [WorkerInfo] { session.workers.values.sorted { $0.id < $1.id } }

    mutating func record(_ event: Event, into decision: inout Decision) {
        state.fold(event)
        decision.events.append(event)
    }

    func reply(_ request: RequestID?, _ reply: Reply, into decision: inout Decision) {
        if let request { decision.effects.append(.reply(request, reply)) }
    }
}
