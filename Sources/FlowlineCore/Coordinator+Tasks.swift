extension Coordinator {
    mutating func connect(_ id: WorkerID, name: String, queues: [String], concurrency: Int, at now: Instant) {
        guard session.workers[id] == nil else { return }
        session.workers[id] = WorkerInfo(id: id, name: name, queues: queues, concurrency: concurrency, connectedAt: now)
        for queue in queues {
            session.queueWorkers[queue, default: []].append(id)
            state.touchedQueues.append(queue)
        }
    }

    mutating func disconnect(_ id: WorkerID, at now: Instant, into decision: inout Decision) {
        guard let worker = session.workers.removeValue(forKey: id) else { return }
        for queue in worker.queues { session.queueWorkers[queue]?.removeAll { $0 == id } }
        for lease in worker.running.sorted() {
            guard let ref = state.leases[lease] else { continue }
            session.release(lease)
            attemptFailed(ref, error: .workerLost("the worker disconnected"), at: now, into: &decision)
        }
    }

    mutating func complete(
        _ lease: LeaseID, result: RawJSON, from: WorkerID, request: RequestID?, at now: Instant,
        into decision: inout Decision
    ) {
        guard let ref = owned(lease, by: from, request: request, into: &decision),
            let task = state.task(ref)
        else { return }
        session.release(lease)
        record(.taskCompleted(ref.workflow, task.id, result: result, at: now), into: &decision)
        reply(request, .ok, into: &decision)
        if state.workflows[ref.workflow]?.unfinished == 0 {
            record(.workflowCompleted(ref.workflow, at: now), into: &decision)
            answerWaiters(of: ref.workflow, into: &decision)
        }
    }

    mutating func heartbeat(
        _ lease: LeaseID, progress: RawJSON?, from: WorkerID, request: RequestID?, at now: Instant,
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
    mutating func owned(_ lease: LeaseID, by worker: WorkerID, request: RequestID?, into decision: inout Decision)
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
        guard let ref = state.leases[lease], let task = state.task(ref) else { return }
        if let owner = session.release(lease) {
            decision.effects.append(.cancelTask(owner, lease: lease, ref.workflow, task.id, reason: error.type))
        }
        attemptFailed(ref, error: error, at: now, into: &decision)
    }

    /// An attempt failed: retry after backoff while attempts remain, else the task and its workflow fail.
    mutating func attemptFailed(_ ref: TaskRef, error: TaskError, at now: Instant, into decision: inout Decision) {
        guard let task = state.task(ref) else { return }
        let retry = task.spec.retry
        if error.retryable && task.attempts < retry.maxAttempts {
            let retryAt = now + retry.delay(afterAttempt: task.attempts)
            record(.taskAttemptFailed(ref.workflow, task.id, error: error, retryAt: retryAt, at: now), into: &decision)
            decision.effects.append(.armTimer(.retry(ref.workflow, task.id), at: retryAt))
            return
        }
        record(.taskAttemptFailed(ref.workflow, task.id, error: error, retryAt: nil, at: now), into: &decision)
        // TODO(#3): reverts of the completed tasks run before the workflow ends.
        end(ref.workflow, with: .workflowFailed(ref.workflow, task.id, error: error, at: now),
            reason: "workflow failed", into: &decision)
    }

    // MARK: - Dispatch

    /// Hands ready tasks of every queue that changed to workers with free slots.
    mutating func dispatchTouchedQueues(at now: Instant, into decision: inout Decision) {
        while !state.touchedQueues.isEmpty || !session.freedQueues.isEmpty {
            var queues = state.touchedQueues
            for queue in session.freedQueues where !queues.contains(queue) { queues.append(queue) }
            state.touchedQueues.removeAll()
            session.freedQueues.removeAll()
            for queue in queues { dispatch(queue, at: now, into: &decision) }
        }
    }

    private mutating func dispatch(_ queue: String, at now: Instant, into decision: inout Decision) {
        while session.queueWorkers[queue]?.isEmpty == false, let ref = state.nextReady(in: queue) {
            guard let worker = session.nextWorker(for: queue), let info = session.workers[worker],
                let task = state.task(ref), let workflow = state.workflows[ref.workflow]
            else { return }
            let lease = LeaseID(state.nextLease)
            record(.taskDispatched(ref.workflow, task.id, lease: lease, worker: info.name, at: now), into: &decision)
            session.leaseOwner[lease] = worker
            session.workers[worker]?.running.insert(lease)
            let deadline = task.spec.timeout.map { now + $0 }
            if let deadline { decision.effects.append(.armTimer(.leaseTimeout(lease), at: deadline)) }
            if let interval = task.spec.heartbeat {
                session.heartbeatDue[lease] = now + interval
                decision.effects.append(.armTimer(.heartbeat(lease), at: now + interval))
            }
            let deps = task.deps.map { ($0, workflow.task($0)?.result ?? .null) }
            let run = TaskRun(
                lease: lease, workflowID: ref.workflow, workflowName: workflow.name, taskID: task.id,
                handler: task.spec.handler, attempt: task.attempts + 1, input: task.spec.input, deps: deps,
                workflowInput: workflow.input, deadline: deadline)
            decision.effects.append(.runTask(worker, run))
        }
    }
}
