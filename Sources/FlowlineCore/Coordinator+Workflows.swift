extension Coordinator {
    mutating func submit(_ spec: WorkflowSpec, request: RequestID, at now: Instant, into decision: inout Decision) {
        if let id = spec.id, let existing = state.workflows[id] {
            // SPEC §7: an id names one document. The same one again is an idempotent retry; another is an error.
            let answer: Reply =
                existing.wasSubmitted(as: spec) ? .submitted(id, created: false) : .failure(.idInUse(id))
            reply(request, answer, into: &decision)
            return
        }
        var spec = spec
        let id = spec.id ?? generatedID()
        spec.id = id
        // `record`, with the fold's check that the id is new left out: it was made above.
        state.admit(spec, id: id, at: now, built: nil)
        decision.events.append(.workflowSubmitted(spec, at: now))
        reply(request, .submitted(id, created: true), into: &decision)
        armStart(id, spec: spec, at: now, into: &decision)
    }

    /// Arms the timers of a workflow just submitted: its `start_at` if that is still ahead, its own timeout (which
    /// counts from `start_at`).
    mutating func armStart(
        _ id: WorkflowID,
        spec: borrowing WorkflowSpec,
        at now: Instant,
        into decision: inout Decision
    ) {
        var base = now
        if let startAt = spec.startAt, startAt > now {
            decision.effects.append(.armTimer(.start(id), at: startAt))
            base = startAt
        }
        if let timeout = spec.timeout { decision.effects.append(.armTimer(.workflowTimeout(id), at: base + timeout)) }
    }

    /// `wf-N`, N counting submissions; a user may have taken that id already, so step past it.
    private func generatedID() -> WorkflowID {
        var n = state.submitted + 1
        var id = WorkflowID("wf-" + String(n))
        while state.workflows[id] != nil {
            n += 1
            id = WorkflowID("wf-" + String(n))
        }
        return id
    }

    mutating func wait(
        _ w: WorkflowID,
        timeout: Duration?,
        request: RequestID,
        at now: Instant,
        into decision: inout Decision
    ) {
        guard let workflow = state.workflows[w] else {
            reply(request, .failure(.unknownWorkflow(w)), into: &decision)
            return
        }
        if workflow.state.isTerminal {
            reply(request, .workflow(workflow), into: &decision)
            return
        }
        session.waiters[w, default: []].append(request)
        if let timeout {
            session.waitTimeouts[request] = w
            decision.effects.append(.armTimer(.waitTimeout(request), at: now + timeout))
        }
    }

    mutating func cancel(
        _ w: WorkflowID,
        reason: String,
        revert: Bool,
        request: RequestID,
        at now: Instant,
        into decision: inout Decision
    ) {
        // Only the state is read here: a copy of the workflow held across `end` would make the fold copy its tasks.
        guard let current = state.workflows[w]?.state else {
            reply(request, .failure(.unknownWorkflow(w)), into: &decision)
            return
        }
        if current == .running {
            end(
                w,
                with: .workflowCancelled(w, reason: reason, revert: revert, at: now),
                reason: "workflow cancelled",
                at: now,
                into: &decision
            )
        }
        if let record = state.workflows[w] { reply(request, .workflow(record), into: &decision) }
    }

    /// Records the event that ends workflow `w`, tells the workers of its open leases, starts its reverts, and
    /// answers its waiters once it is terminal.
    mutating func end(
        _ w: WorkflowID,
        with event: Event,
        reason: String,
        at now: Instant,
        into decision: inout Decision
    ) {
        let open = state.workflows[w]?.tasks.compactMap { task in task.lease.map { ($0, task.id) } } ?? []
        record(event, into: &decision)
        for (lease, task) in open {
            if let owner = session.release(lease) {
                decision.effects.append(.cancelTask(owner, lease: lease, w, task, reason: reason))
            }
        }
        continueReverting(w, at: now, into: &decision)
        retryIfDue(w, at: now, into: &decision)
        answerWaiters(of: w, into: &decision)
    }

    mutating func answerWaiters(of w: WorkflowID, into decision: inout Decision) {
        // Most workflows have no waiter: then neither the workflow is looked up nor a copy of it made for replies.
        guard session.waiters[w] != nil, let workflow = state.workflows[w], workflow.state.isTerminal else { return }
        for request in session.waiters.removeValue(forKey: w) ?? [] {
            session.waitTimeouts[request] = nil
            reply(request, .workflow(workflow), into: &decision)
        }
    }

    /// A timer came due. One whose deadline has moved on since it was armed (a heartbeat came, a poll was
    /// rescheduled) is stale and does nothing; see `Command.fireTimer` for `armedFor`.
    mutating func fire(_ timer: TimerID, armedFor: Instant?, at now: Instant, into decision: inout Decision) {
        func due(_ deadline: Instant) -> Bool { armedFor.map { $0 == deadline } ?? (deadline <= now) }
        switch timer {
        case .leaseTimeout(let lease):
            guard state.leases[lease] != nil else { return }
            expire(lease, error: .timeout, at: now, into: &decision)
        case .heartbeat(let lease):
            guard state.leases[lease] != nil, let deadline = session.heartbeatDue[lease], due(deadline) else { return }
            expire(lease, error: .workerLost("no heartbeat within heartbeat_s"), at: now, into: &decision)
        case .retry(let w, let t):
            guard let task = state.workflows[w]?.task(t), task.state == .ready || task.state == .reverting,
                let retryAt = task.retryAt, due(retryAt)
            else { return }
            record(.taskRequeued(w, t, at: now), into: &decision)
        case .awaitTimeout(let w, let t, let n):
            guard let ref = waiting(w, t, n), state.task(ref)?.awaitDeadline.map(due) == true else { return }
            dropLease(ref, reason: "timeout", into: &decision)
            attemptFailed(
                ref,
                error: TaskError(type: "timeout", message: "the future's timeout passed"),
                at: now,
                into: &decision
            )
        case .wake(let w, let t, let n):
            guard let ref = waiting(w, t, n), let task = state.task(ref), let wakeAt = task.wakeAt, due(wakeAt) else {
                return
            }
            if case .sleep = task.awaiting {
                completeTask(ref, result: .null, at: now, into: &decision)
            } else if task.lease == nil && !task.isQueued {
                record(.taskRequeued(w, t, at: now), into: &decision)
            }
        case .futureExpiry(let key):
            guard let kept = state.keptFutures[key], due(kept.at + futureRetention) else { return }
            record(.futureExpired(key: key, at: now), into: &decision)
        case .resolutionExpiry(let key, let id):
            guard let applied = state.resolution(id, of: key), due(applied.at + futureRetention) else { return }
            record(.resolutionExpired(key: key, id: id, at: now), into: &decision)
        case .workflowTimeout(let w):
            // A reverting workflow has already failed or been cancelled: its reverts run to the end. A timer armed
            // before a rerun or a workflow retry is stale: the timeout counts from the run's start.
            guard let workflow = state.workflows[w], workflow.state == .running,
                let deadline = workflow.timeoutDeadline, due(deadline)
            else { return }
            end(w, with: .workflowTimedOut(w, at: now), reason: "workflow timed out", at: now, into: &decision)
        case .start(let w):
            guard let workflow = state.workflows[w], workflow.held, let startAt = workflow.startAt, due(startAt) else {
                return
            }
            record(.workflowStarted(w, at: now), into: &decision)
        case .schedule(let id):
            guard let next = state.schedules[id]?.nextFireAt, due(next) else { return }
            fireSchedule(id, missed: false, at: now, into: &decision)
        case .workflowRetry(let w):
            guard let workflow = state.workflows[w], workflow.state == .running, let retryAt = workflow.retryAt,
                due(retryAt)
            else { return }
            restart(w, with: .workflowRestarted(w, at: now), at: now, into: &decision)
        case .waitTimeout(let request):
            guard let w = session.waitTimeouts.removeValue(forKey: request) else { return }
            session.waiters[w]?.removeAll { $0 == request }
            if let workflow = record(w, at: now) { reply(request, .workflow(workflow), into: &decision) }
        case .limitToken(let key):
            session.tokenTimers.remove(key)
            state.limitsFreed = true
        }
    }
}

extension Workflow {
    /// Whether `spec` is the document this workflow was submitted as, compared as decoded (defaults filled in)
    /// with payloads equal as JSON values: member order, spacing and escapes do not count.
    func wasSubmitted(as spec: borrowing WorkflowSpec) -> Bool {
        guard name == spec.name, timeout == spec.timeout, startAt == spec.startAt, retry == spec.retry,
            input.isEquivalent(to: spec.input),
            metadata.count == spec.metadata.count,
            Set(metadata) == Set(spec.metadata)
        else { return false }
        // The submitted tasks are the first ones, in document order; spawned ones come after.
        var i = 0
        for task in tasks where task.parent == nil {
            guard i < spec.tasks.count else { return false }
            var mine = task.spec
            var theirs = spec.tasks[i]
            guard mine.input.isEquivalent(to: theirs.input) else { return false }
            mine.input = .null
            theirs.input = .null
            guard mine == theirs else { return false }
            i += 1
        }
        return i == spec.tasks.count
    }
}
