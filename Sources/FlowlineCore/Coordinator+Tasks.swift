extension Coordinator {
    mutating func connect(
        _ id: WorkerID,
        name: String,
        queues: [String],
        concurrency: Int,
        handlers: [String]?,
        at now: Instant
    ) {
        guard session.workers[id] == nil else { return }
        session.workers[id] = WorkerInfo(
            id: id,
            name: name,
            queues: queues,
            concurrency: concurrency,
            handlers: handlers.map(Set.init),
            connectedAt: now
        )
        for queue in queues {
            session.queueWorkers[queue, default: QueueWorkers()].list.append(id)
            state.touchedQueues.append(queue)
        }
    }

    mutating func disconnect(_ id: WorkerID, at now: Instant, into decision: inout Decision) {
        guard let worker = session.workers.removeValue(forKey: id) else { return }
        for queue in worker.queues { session.queueWorkers[queue]?.list.removeAll { $0 == id } }
        for lease in worker.running.sorted() {
            guard let ref = state.leases[lease] else { continue }
            session.release(lease)
            runFailed(ref, error: .workerLost("the worker disconnected"), at: now, into: &decision)
        }
    }

    mutating func complete(
        _ lease: LeaseID,
        result: RawJSON,
        poll: PollAnswer?,
        from: WorkerID,
        request: RequestID?,
        at now: Instant,
        into decision: inout Decision
    ) {
        // The few fields needed, read in place: a copy of the task record is over 500 bytes and a retain per field.
        guard let ref = owned(lease, by: from, request: request, into: &decision),
            let wi = state.workflows.index(forKey: ref.workflow),
            let task = state.withTask(
                at: wi,
                ref.index,
                { task in
                    (
                        state: task.state, id: task.id, parent: task.parent, awaitNumber: task.awaitNumber,
                        pollInterval: task.pollInterval
                    )
                }
            )
        else {
            return
        }
        switch task.state {
        case .waiting:
            guard let poll, let interval = task.pollInterval else {
                let error = SpecError(
                    path: "result",
                    message: "a poll answers {\"done\": false} or {\"done\": true, \"result\": ...}"
                )
                reply(request, .failure(.invalid(error)), into: &decision)
                // The answer is refused, and the poll counts as failed: left open, the lease would hold the task
                // until the worker went away.
                session.release(lease)
                runFailed(
                    ref,
                    error: TaskError(type: "bad_poll_answer", message: error.message),
                    at: now,
                    into: &decision
                )
                return
            }
            session.release(lease)
            reply(request, .ok, into: &decision)
            if poll.done {
                completeTask(ref, (task.id, task.parent), in: wi, result: poll.result, at: now, into: &decision)
            } else {
                record(.pollAnswered(ref.workflow, task.id, at: now), into: &decision)
                decision.effects.append(
                    .armTimer(.wake(ref.workflow, task.id, n: task.awaitNumber), at: now + interval)
                )
            }
        case .reverting:
            session.release(lease)
            reply(request, .ok, into: &decision)
            record(.taskReverted(ref.workflow, task.id, at: now), into: &decision)
            continueReverting(ref.workflow, at: now, into: &decision)
        case .blocked, .ready, .running, .completed, .failed, .timedOut, .cancelled, .skipped, .reverted, .revertFailed:
            session.release(lease)
            reply(request, .ok, into: &decision)
            completeTask(ref, (task.id, task.parent), in: wi, result: result, at: now, into: &decision)
        }
    }

    /// Completes a task, then the spawning tasks whose output it is, then the workflow when nothing is left.
    mutating func completeTask(_ ref: TaskRef, result: RawJSON, at now: Instant, into decision: inout Decision) {
        guard let wi = state.workflows.index(forKey: ref.workflow),
            let task = state.withTask(at: wi, ref.index, { (id: $0.id, parent: $0.parent) })
        else { return }
        completeTask(ref, task, in: wi, result: result, at: now, into: &decision)
    }

    /// `completeTask`, for a caller that has read the task's id and parent already, and found its workflow at `wi`
    /// in `state.workflows` (completing adds or removes no workflow, so `wi` stays valid throughout).
    mutating func completeTask(
        _ ref: TaskRef,
        _ task: (id: TaskID, parent: TaskID?),
        in wi: WorkflowIndex,
        result: RawJSON,
        at now: Instant,
        into decision: inout Decision
    ) {
        var task = task
        record(.taskCompleted(ref.workflow, task.id, result: result, at: now), in: wi, task: ref.index, into: &decision)
        while let parentID = task.parent,
            let parent = state.withWorkflow(
                wi,
                { workflow in
                    workflow.position(of: parentID).flatMap { position in
                        workflow.tasks[position].state == .waiting && workflow.tasks[position].spawnOutput == task.id
                            ? (id: parentID, parent: workflow.tasks[position].parent) : nil
                    }
                }
            )
        {
            record(.taskCompleted(ref.workflow, parentID, result: result, at: now), in: wi, into: &decision)
            task = parent
        }
        guard state.withWorkflow(wi, { $0.unfinished == 0 && $0.state == .running }) else { return }
        // A workflow that went on after a task failed, for its trigger-ruled tasks, fails once they end.
        if let failed = state.withWorkflow(wi, { w in w.failedTask.map { ($0, w.error ?? .timeout) } }) {
            let event = Event.workflowFailed(ref.workflow, failed.0, error: failed.1, at: now)
            end(ref.workflow, with: event, reason: "workflow failed", at: now, into: &decision)
            return
        }
        record(.workflowCompleted(ref.workflow, at: now), in: wi, into: &decision)
        answerWaiters(of: ref.workflow, into: &decision)
    }

    mutating func heartbeat(
        _ lease: LeaseID,
        progress: RawJSON?,
        from: WorkerID,
        request: RequestID?,
        at now: Instant,
        into decision: inout Decision
    ) {
        guard let ref = owned(lease, by: from, request: request, into: &decision), let task = state.task(ref) else {
            return
        }
        if let interval = task.spec.heartbeat {
            session.heartbeatDue[lease] = now + interval
            decision.effects.append(.armTimer(.heartbeat(lease), at: now + interval))
        }
        if let progress, progress != task.progress {
            record(.taskProgressed(ref.workflow, task.id, progress: progress, at: now), into: &decision)
        }
        reply(request, .ok, into: &decision)
    }

    /// The task of `lease` when the lease is open and held by `worker`; otherwise answers -32003.
    mutating func owned(
        _ lease: LeaseID,
        by worker: WorkerID,
        request: RequestID?,
        into decision: inout Decision
    )
        -> TaskRef?
    {
        guard let ref = state.leases[lease], session.leaseOwner[lease] == worker else {
            reply(request, .failure(.staleLease), into: &decision)
            return nil
        }
        return ref
    }

    /// Ends an open lease because of the coordinator (timeout, lost heartbeat); a worker still connected is told.
    mutating func expire(_ lease: LeaseID, error: TaskError, at now: Instant, into decision: inout Decision) {
        guard let ref = state.leases[lease] else { return }
        dropLease(ref, reason: error.type, into: &decision)
        runFailed(ref, error: error, at: now, into: &decision)
    }

    /// Frees the slot of the task's open lease, if any, and tells its worker the lease ended.
    mutating func dropLease(_ ref: TaskRef, reason: String, into decision: inout Decision) {
        guard let task = state.task(ref), let lease = task.lease else { return }
        if let owner = session.release(lease) {
            decision.effects.append(.cancelTask(owner, lease: lease, ref.workflow, task.id, reason: reason))
        }
    }

    /// A run failed: an attempt (or a poll of it) goes by the task's retry policy, a revert by the revert rules.
    mutating func runFailed(_ ref: TaskRef, error: TaskError, at now: Instant, into decision: inout Decision) {
        guard let task = state.task(ref) else { return }
        if task.state == .reverting {
            revertRunFailed(ref, error: error, at: now, into: &decision)
        } else {
            attemptFailed(ref, error: error, at: now, into: &decision)
        }
    }

    /// An attempt failed: retry after backoff while attempts remain, else the task and its workflow fail.
    mutating func attemptFailed(_ ref: TaskRef, error: TaskError, at now: Instant, into decision: inout Decision) {
        guard var task = state.task(ref) else { return }
        if let retryAt = task.spec.retry.retryAt(afterAttempt: task.budgetAttempts, failingWith: error, at: now) {
            record(.taskAttemptFailed(ref.workflow, task.id, error: error, retryAt: retryAt, at: now), into: &decision)
            decision.effects.append(.armTimer(.retry(ref.workflow, task.id), at: retryAt))
            return
        }
        record(.taskAttemptFailed(ref.workflow, task.id, error: error, retryAt: nil, at: now), into: &decision)
        // A spawning task fails (SPEC: "fails when output fails for good", so `failed` even when the output
        // timed out) with the output it was waiting for.
        while let parentID = task.parent, let parent = state.workflows[ref.workflow]?.task(parentID),
            parent.state == .waiting, parent.spawnOutput == task.id
        {
            let failure = TaskError(
                type: "output_failed",
                message: "\(task.id) failed: \(error.type): \(error.message)",
                retryable: false
            )
            record(.taskAttemptFailed(ref.workflow, parentID, error: failure, retryAt: nil, at: now), into: &decision)
            task = parent
        }
        failWorkflow(ref.workflow, task.id, error: error, at: now, into: &decision)
    }
}
