extension Coordinator {
    /// The task waiting in its `n`-th await, if it still is.
    func waiting(_ w: WorkflowID, _ t: TaskID, _ n: Int) -> TaskRef? {
        guard let index = state.workflows[w]?.position(of: t), let task = state.workflows[w]?.tasks[index],
            task.state == .waiting, task.awaitNumber == n
        else { return nil }
        return TaskRef(workflow: w, index: index)
    }

    /// The lease's task when it is a running attempt; a poll or revert lease cannot await or spawn.
    private mutating func runningAttempt(
        _ lease: LeaseID,
        from: WorkerID,
        request: RequestID?,
        into decision: inout Decision
    ) -> TaskRef? {
        guard let ref = owned(lease, by: from, request: request, into: &decision) else { return nil }
        guard state.task(ref)?.state == .running else {
            let error = SpecError(path: "lease", message: "only a task's own attempt may await or spawn")
            reply(request, .failure(.invalid(error)), into: &decision)
            return nil
        }
        return ref
    }

    mutating func awaitFuture(
        _ lease: LeaseID,
        _ future: Future,
        from: WorkerID,
        request: RequestID?,
        at now: Instant,
        into decision: inout Decision
    ) {
        guard let ref = runningAttempt(lease, from: from, request: request, into: &decision),
            let id = state.task(ref)?.id
        else { return }
        session.release(lease)
        reply(request, .ok, into: &decision)
        record(.taskAwaiting(ref.workflow, id, future: future, at: now), into: &decision)
        guard let task = state.task(ref) else { return }
        if let deadline = task.awaitDeadline {
            decision.effects.append(.armTimer(.awaitTimeout(ref.workflow, id, n: task.awaitNumber), at: deadline))
        }
        if let wakeAt = task.wakeAt {
            decision.effects.append(.armTimer(.wake(ref.workflow, id, n: task.awaitNumber), at: wakeAt))
        }
        if case .key(let key, _) = future, let kept = state.keptFutures[key] {
            record(.futureUsed(key: key, at: now), into: &decision)
            settle(ref, with: kept.outcome, at: now, into: &decision)
        }
    }

    mutating func resolve(
        _ key: String,
        _ outcome: FutureOutcome,
        resolutionID: String?,
        request: RequestID,
        at now: Instant,
        into decision: inout Decision
    ) {
        if let id = resolutionID {
            // A re-send (its first answer was lost): the first one's effect stands, and so does its answer.
            if let applied = state.resolution(id, of: key) {
                reply(request, .matched(applied.matched), into: &decision)
                return
            }
            guard state.resolutionCount < maxKeptFutures else {
                let error = SpecError(
                    path: "resolution_id",
                    message: "\(maxKeptFutures) resolution ids are remembered already, the most --max-kept-futures "
                        + "allows; resend without resolution_id or after some pass --future-retention"
                )
                reply(request, .failure(.invalid(error)), into: &decision)
                return
            }
        }
        let waiters = (state.keyWaiters[key] ?? []).filter { waiter in
            guard let task = state.task(waiter.task), task.state == .waiting, task.awaitNumber == waiter.awaitNumber,
                case .key(let awaited, _) = task.awaiting
            else { return false }
            return awaited == key
        }
        if waiters.isEmpty && state.keptFutures[key] == nil {
            // The count is the folded `keptFutures`, so a replay rebuilds it; a refusal journals nothing.
            guard state.keptFutures.count < maxKeptFutures else {
                let error = SpecError(
                    path: "key",
                    message: "no task waits on this key, and \(maxKeptFutures) resolutions are kept already, "
                        + "the most --max-kept-futures allows"
                )
                reply(request, .failure(.invalid(error)), into: &decision)
                return
            }
            record(.futureKept(key: key, outcome, at: now), into: &decision)
            decision.effects.append(.armTimer(.futureExpiry(key: key), at: now + futureRetention))
        }
        var matched = 0
        for waiter in waiters {
            // Settling one waiter may end its workflow (a rejection with no attempt left) and cancel the others.
            guard let task = state.task(waiter.task), task.state == .waiting, task.awaitNumber == waiter.awaitNumber
            else { continue }
            settle(waiter.task, with: outcome, at: now, into: &decision)
            matched += 1
        }
        if let id = resolutionID {
            record(.resolutionApplied(key: key, id: id, matched: matched, at: now), into: &decision)
            decision.effects.append(.armTimer(.resolutionExpiry(key: key, id: id), at: now + futureRetention))
        }
        reply(request, .matched(matched), into: &decision)
    }

    private mutating func settle(
        _ ref: TaskRef,
        with outcome: FutureOutcome,
        at now: Instant,
        into decision: inout Decision
    ) {
        switch outcome {
        case .resolved(let result): completeTask(ref, result: result, at: now, into: &decision)
        case .rejected(let error): attemptFailed(ref, error: error, at: now, into: &decision)
        }
    }

    mutating func spawn(
        _ lease: LeaseID,
        tasks: [TaskSpec],
        output: String,
        from: WorkerID,
        request: RequestID?,
        at now: Instant,
        into decision: inout Decision
    ) {
        guard let ref = runningAttempt(lease, from: from, request: request, into: &decision),
            let (parent, problem) = spawnCheck(ref, tasks: tasks, output: output)
        else { return }
        if let problem {
            reply(request, .failure(.invalid(problem)), into: &decision)
            return
        }
        session.release(lease)
        reply(request, .ok, into: &decision)
        record(.tasksSpawned(ref.workflow, parent, tasks: tasks, output: output, at: now), into: &decision)
    }

    /// The spawning task's id and what is wrong with the spawn, if anything. A function of its own so that its copy
    /// of the workflow is gone before the spawn is recorded (the fold would otherwise copy every task).
    private func spawnCheck(_ ref: TaskRef, tasks: [TaskSpec], output: String) -> (TaskID, SpecError?)? {
        guard let workflow = state.workflows[ref.workflow] else { return nil }
        let parent = workflow.tasks[ref.index].id
        // Every level of spawning adds one '/' to the id (ids in documents have none), so the depth is the id's
        // own: nothing to keep, and a replay derives the same.
        var depth = 1
        for byte in parent.rawValue.utf8 where byte == UInt8(ascii: "/") { depth += 1 }
        if depth > SpecLimits.maxSpawnDepth {
            let message =
                "spawned tasks may lie at most \(SpecLimits.maxSpawnDepth) levels below the submitted document; "
                + "these would lie \(depth)"
            return (parent, SpecError(path: "tasks", message: message))
        }
        let completed = Set(workflow.tasks.filter { $0.state == .completed }.map(\.id.rawValue))
        if let problem = WorkflowSpec.validate(tasks: tasks, pathPrefix: "tasks", known: completed) {
            return (parent, problem)
        }
        if !tasks.contains(where: { $0.id == output }) {
            return (parent, SpecError(path: "output", message: "names none of the spawned tasks: '\(output)'"))
        }
        if let taken = tasks.firstIndex(where: { workflow.position(of: TaskID("\(parent)/\($0.id)")) != nil }) {
            return (parent, SpecError(path: "tasks[\(taken)].id", message: "the workflow has this task already"))
        }
        return (parent, nil)
    }

    // MARK: - Reverts

    /// Starts the next revert of a reverting workflow, or ends the workflow when none is left.
    mutating func continueReverting(_ w: WorkflowID, at now: Instant, into decision: inout Decision) {
        guard state.workflows[w]?.state == .reverting else { return }
        guard let next = state.workflows[w]?.revertQueue.first else {
            record(.workflowReverted(w, at: now), into: &decision)
            retryIfDue(w, at: now, into: &decision)
            answerWaiters(of: w, into: &decision)
            return
        }
        if let task = state.workflows[w]?.tasks[next],
            task.state == .completed || (task.state.failedForGood && task.spec.revertOnFailure)
        {
            record(.revertStarted(w, task.id, at: now), into: &decision)
        }
    }

    /// A revert run failed: retried under the task's retry policy, else the task ends `revert_failed` and the
    /// next revert runs.
    mutating func revertRunFailed(_ ref: TaskRef, error: TaskError, at now: Instant, into decision: inout Decision) {
        guard let task = state.task(ref) else { return }
        if let retryAt = task.spec.retry.retryAt(afterAttempt: task.revertAttempts, failingWith: error, at: now) {
            record(.revertFailed(ref.workflow, task.id, error: error, retryAt: retryAt, at: now), into: &decision)
            decision.effects.append(.armTimer(.retry(ref.workflow, task.id), at: retryAt))
            return
        }
        record(.revertFailed(ref.workflow, task.id, error: error, retryAt: nil, at: now), into: &decision)
        continueReverting(ref.workflow, at: now, into: &decision)
    }
}
