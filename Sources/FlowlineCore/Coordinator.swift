/// The deterministic heart of Flowline: commands in, events and effects out. No I/O, no clock.
public struct Coordinator: Sendable {
    public internal(set) var state = CoordinatorState()
    var session = Session()
    /// How long a resolution that found no waiting task is kept (`--future-retention`).
    public var futureRetention: Duration
    /// How many resolutions that found no waiting task may be kept at once (`--max-kept-futures`); past it a
    /// resolution that would be kept is refused. It bounds the remembered resolution ids too: past it a resolution
    /// with an id not yet seen is refused.
    public var maxKeptFutures = 1_000_000
    /// The time-zone rules schedules compute their fires in, by IANA name: the shell reads them from the tz
    /// database (before `resume`, and before a `createSchedule` naming a new zone). Fires computed are journaled,
    /// so replay never needs these.
    public var zones: [String: ZoneRules] = ["UTC": .utc]

    public init(futureRetention: Duration = .seconds(7 * 86400)) {
        self.futureRetention = futureRetention
    }

    /// Decides what `command` means at `now`. The same state, command and time always give the same decision.
    public mutating func handle(_ command: Command, at now: Instant) -> Decision {
        var decision = Decision()
        handle(command, at: now, into: &decision)
        return decision
    }

    /// `handle(_:at:)`, appending the decision's events and effects to those already in `decision`, which the
    /// coordinator never reads: the shell passes its turn's events and an emptied effect list, so that a command
    /// allocates neither array and its events are not copied into the turn's.
    public mutating func handle(_ command: Command, at now: Instant, into decision: inout Decision) {
        switch command {
        case .submit(let spec, let request): submit(spec, request: request, at: now, into: &decision)
        case .wait(let w, let timeout, let request):
            wait(w, timeout: timeout, request: request, at: now, into: &decision)
        case .cancel(let w, let reason, let revert, let request):
            cancel(w, reason: reason, revert: revert, request: request, at: now, into: &decision)
        case .rerun(let w, let from, let request): rerun(w, from: from, request: request, at: now, into: &decision)
        case .cancelMany(let filter, let request): cancelMany(filter, request: request, at: now, into: &decision)
        case .rerunMany(let filter, let request): rerunMany(filter, request: request, at: now, into: &decision)
        case .connectWorker(let id, let name, let queues, let concurrency, let handlers):
            connect(id, name: name, queues: queues, concurrency: concurrency, handlers: handlers, at: now)
        case .disconnect(let id): disconnect(id, at: now, into: &decision)
        case .complete(let lease, let result, let poll, let from, let request):
            complete(lease, result: result, poll: poll, from: from, request: request, at: now, into: &decision)
        case .fail(let lease, let error, let from, let request):
            guard let ref = owned(lease, by: from, request: request, into: &decision) else { break }
            session.release(lease)
            reply(request, .ok, into: &decision)
            runFailed(ref, error: error, at: now, into: &decision)
        case .await(let lease, let future, let from, let request):
            awaitFuture(lease, future, from: from, request: request, at: now, into: &decision)
        case .spawn(let lease, let tasks, let output, let from, let request):
            spawn(lease, tasks: tasks, output: output, from: from, request: request, at: now, into: &decision)
        case .resolve(let key, let outcome, let resolutionID, let request):
            resolve(key, outcome, resolutionID: resolutionID, request: request, at: now, into: &decision)
        case .release(let lease, let from, let request):
            guard let ref = owned(lease, by: from, request: request, into: &decision), let task = state.task(ref) else {
                break
            }
            session.release(lease)
            record(.leaseReleased(ref.workflow, task.id, at: now), into: &decision)
            reply(request, .ok, into: &decision)
        case .quiet(let worker): session.workers[worker]?.concurrency = 0
        case .heartbeat(let lease, let progress, let from, let request):
            heartbeat(lease, progress: progress, from: from, request: request, at: now, into: &decision)
        case .fireTimer(let timer, let armedFor): fire(timer, armedFor: armedFor, at: now, into: &decision)
        case .compact(let edge, let limit):
            var old: [WorkflowID] = []
            for id in state.order where old.count < limit {
                if let w = state.workflows[id], w.state.isTerminal, let end = w.finishedAt, end < edge {
                    old.append(id)
                }
            }
            if !old.isEmpty { record(.workflowsCompacted(old, at: now), into: &decision) }
        case .createSchedule(let spec, let request): createSchedule(spec, request: request, at: now, into: &decision)
        case .schedule(let action, let id, let request):
            schedule(action, id: id, request: request, at: now, into: &decision)
        case .pauseWorkflow(let w, let paused, let request):
            pause(w, paused: paused, request: request, at: now, into: &decision)
        case .pauseQueue(let queue, let paused, let request):
            if state.pausedQueues.contains(queue) != paused {
                record(paused ? .queuePaused(queue, at: now) : .queueResumed(queue, at: now), into: &decision)
            }
            reply(request, .ok, into: &decision)
        case .setLimit(let key, let limit, let request):
            if state.limits[key] != limit { record(.limitSet(key: key, limit, at: now), into: &decision) }
            reply(request, .limit(key: key, limit, running: state.limitRunning[key] ?? 0), into: &decision)
        case .deleteLimit(let key, let request):
            guard state.limits[key] != nil else {
                reply(request, .failure(.unknownLimit(key)), into: &decision)
                break
            }
            record(.limitDeleted(key: key, at: now), into: &decision)
            reply(request, .ok, into: &decision)
        }
        dispatchTouchedQueues(at: now, into: &decision)
    }

    /// Folds one committed event into the state. Total and effect-free: replay calls only this.
    public mutating func apply(_ event: Event) { state.fold(event) }

    /// Replays journaled events: `apply` without keeping the ready queues, which `resume` rebuilds once.
    public mutating func replay(_ event: Event) {
        state.isReplaying = true
        state.fold(event)
    }

    /// Replays one step: `replay(step.event)`, with the part of the fold that `ReplayStep` did already. Takes the
    /// workflow the step built (moves it into the state), so a step replays once.
    public mutating func replay(_ step: inout ReplayStep) {
        state.isReplaying = true
        let built = step.built.popLast()
        state.fold(step.event, built: built)
    }

    /// Makes room for `count` more workflows before a replay that submits that many, so that the workflow table
    /// is not rehashed and moved each time it doubles (nor faulted in again at each size).
    public mutating func reserveCapacity(forSubmissions count: Int) {
        state.workflows.reserveCapacity(state.workflows.count + count)
        state.order.reserveCapacity(state.order.count + count)
    }

    /// After replay: gives back the leases that were open when the daemon stopped (without using up their
    /// attempts) and re-arms every durable timer.
    public mutating func resume(at now: Instant) -> Decision {
        var decision = Decision()
        session = Session()
        state.isReplaying = false
        state.rebuildQueues()
        for ref in state.leases.sorted(by: { $0.key < $1.key }).map(\.value) {
            guard let task = state.task(ref) else { continue }
            record(.leaseReleased(ref.workflow, task.id, at: now), into: &decision)
        }
        // Each timer at its persisted deadline, waiting at most its own length: a wall clock set back while the
        // daemon was down would otherwise hold it back by as much.
        for workflow in state.workflows(where: { !$0.state.isTerminal }) {
            let id = workflow.id
            if let timeout = workflow.timeout, let deadline = workflow.timeoutDeadline {
                // A timeout counts from `start_at` (its timer's length then runs from the submission), or from the
                // start of the current run after a rerun or a workflow retry.
                let length =
                    workflow.runningSince == nil ? (workflow.timeoutBase - workflow.createdAt) + timeout : timeout
                decision.effects.append(.armTimer(.workflowTimeout(id), at: deadline, atMost: length))
            }
            if let retryAt = workflow.retryAt, let retry = workflow.retry {
                let backoff = retry.delay(afterAttempt: workflow.attempt)
                decision.effects.append(.armTimer(.workflowRetry(id), at: retryAt, atMost: backoff))
            }
            if workflow.held, let startAt = workflow.startAt {
                decision.effects.append(.armTimer(.start(id), at: startAt, atMost: startAt - workflow.createdAt))
            }
            for task in workflow.tasks {
                if let retryAt = task.retryAt, task.state == .ready || task.state == .reverting {
                    let attempts = task.state == .reverting ? task.revertAttempts : task.budgetAttempts
                    let backoff = task.spec.retry.delay(afterAttempt: attempts)
                    decision.effects.append(.armTimer(.retry(id, task.id), at: retryAt, atMost: backoff))
                }
                guard task.state == .waiting else { continue }
                if let deadline = task.awaitDeadline {
                    decision.effects.append(
                        .armTimer(
                            .awaitTimeout(id, task.id, n: task.awaitNumber),
                            at: deadline,
                            atMost: task.awaiting?.timeout
                        )
                    )
                }
                if let wakeAt = task.wakeAt {
                    var length = task.pollInterval
                    if case .sleep(let duration) = task.awaiting { length = duration }
                    decision.effects.append(
                        .armTimer(.wake(id, task.id, n: task.awaitNumber), at: wakeAt, atMost: length)
                    )
                }
            }
        }
        for (key, kept) in state.keptFutures.sorted(by: { $0.key < $1.key }) {
            decision.effects.append(
                .armTimer(.futureExpiry(key: key), at: kept.at + futureRetention, atMost: futureRetention)
            )
        }
        for (key, ids) in state.resolutions.sorted(by: { $0.key < $1.key }) {
            for (id, applied) in ids.sorted(by: { $0.key < $1.key }) {
                decision.effects.append(
                    .armTimer(
                        .resolutionExpiry(key: key, id: id),
                        at: applied.at + futureRetention,
                        atMost: futureRetention
                    )
                )
            }
        }
        resumeSchedules(at: now, into: &decision)
        state.touchedQueues.removeAll()
        return decision
    }

    /// The connected workers, oldest first.
    public var workers: [WorkerInfo] { session.workers.values.sorted { $0.id < $1.id } }

    mutating func record(_ event: Event, into decision: inout Decision) {
        state.fold(event)
        decision.events.append(event)
    }

    /// `record`, for an event of the workflow at `wi` in `state.workflows`, and of its task at `position` if given.
    mutating func record(
        _ event: Event,
        in wi: WorkflowIndex,
        task position: Int? = nil,
        into decision: inout Decision
    ) {
        state.fold(event, built: nil, in: wi, task: position)
        decision.events.append(event)
    }

    func reply(_ request: RequestID?, _ reply: Reply, into decision: inout Decision) {
        if let request { decision.effects.append(.reply(request, reply)) }
    }
}
