extension CoordinatorState {
    /// Folds one event into the state. Total: replay calls only this, and an event for a workflow that
    /// is not there (compacted away) changes nothing.
    mutating func fold(_ event: Event) {
        switch event {
        case .workflowSubmitted(let spec, let at): submit(spec, at: at)
        case .taskDispatched(let w, let t, let lease, let worker, let kind, let at):
            dispatched(w, t, lease: lease, worker: worker, kind: kind, at: at)
        case .taskCompleted(let w, let t, let result, let at): complete(w, t, result: result, at: at)
        case .taskAttemptFailed(let w, let t, let error, let retryAt, let at):
            closeLease(w, t)
            forgetKeyWait(w, t)
            update(w, t) { task in
                task.error = error
                task.retryAt = retryAt
                task.isQueued = false
                task.awaiting = nil
                task.spawnOutput = nil
                task.state = retryAt != nil ? .ready : (error.type == TaskError.timeout.type ? .timedOut : .failed)
                if retryAt == nil { task.finishedAt = at }
            }
            if retryAt == nil { workflows[w]?.unfinished -= 1 }
        case .taskRequeued(let w, let t, let at):
            update(w, t) { task in
                task.retryAt = nil
                task.wakeAt = nil
                if task.state == .ready { task.scheduledAt = at }
            }
            enqueue(w, t)
        case .leaseReleased(let w, let t, _):
            closeLease(w, t)
            update(w, t) { task in
                switch task.state {
                case .running:
                    task.state = .ready
                    task.attempts -= 1
                case .reverting: task.revertAttempts -= 1
                case .blocked, .ready, .waiting, .completed, .failed, .timedOut, .cancelled, .skipped, .reverted,
                    .revertFailed:
                    break
                }
            }
            enqueue(w, t)
        case .taskProgressed(let w, let t, let progress, _): update(w, t) { $0.progress = progress }
        case .taskAwaiting(let w, let t, let future, let at): startAwait(w, t, future, at: at)
        case .pollAnswered(let w, let t, let at):
            closeLease(w, t)
            update(w, t) { task in
                if case .poll(_, _, let interval, _) = task.awaiting { task.wakeAt = at + interval }
            }
        case .tasksSpawned(let w, let t, let tasks, let output, let at):
            closeLease(w, t)
            update(w, t) { task in
                task.state = .waiting
                task.spawnOutput = TaskID("\(t.rawValue)/\(output)")
            }
            addTasks(tasks, to: w, parent: t, at: at)
        case .futureKept(let key, let outcome, let at):
            if keptFutures[key] == nil { keptFutures[key] = KeptFuture(outcome: outcome, at: at) }
        case .futureUsed(let key, _), .futureExpired(let key, _): keptFutures[key] = nil
        case .revertStarted(let w, let t, _):
            update(w, t) { task in
                task.state = .reverting
                task.error = nil
            }
            enqueue(w, t)
        case .taskReverted(let w, let t, _):
            closeLease(w, t)
            update(w, t) { $0.state = .reverted }
            workflows[w]?.revertQueue.removeFirst()
        case .revertFailed(let w, let t, let error, let retryAt, _):
            closeLease(w, t)
            update(w, t) { task in
                task.error = error
                task.retryAt = retryAt
                if retryAt == nil { task.state = .revertFailed }
            }
            if retryAt == nil {
                workflows[w]?.revertQueue.removeFirst()
                workflows[w]?.revertFailures.append(t)
            }
        case .workflowReverted(let w, let at):
            guard let workflow = workflows[w] else { return }
            workflows[w]?.state = workflow.endState ?? .failed
            workflows[w]?.reverted = workflow.revertFailures.isEmpty
            workflows[w]?.endState = nil
            workflows[w]?.finishedAt = at
        case .workflowCompleted(let w, let at): end(w, as: .completed, error: nil, revert: false, at: at)
        case .workflowFailed(let w, let t, let error, let at):
            skipDownstream(of: t, in: w, at: at)
            end(w, as: .failed, error: error, revert: true, at: at)
        case .workflowCancelled(let w, let reason, let revert, let at):
            let error = TaskError(type: "cancelled", message: reason, retryable: false)
            end(w, as: .cancelled, error: error, revert: revert, at: at)
        case .workflowTimedOut(let w, let at):
            let error = TaskError(type: "timeout", message: "the workflow's timeout passed")
            end(w, as: .timedOut, error: error, revert: false, at: at)
        }
    }

    // MARK: - Pieces of the fold

    private mutating func submit(_ spec: WorkflowSpec, at: Instant) {
        guard let id = spec.id, workflows[id] == nil else { return }
        workflows[id] = Workflow(id: id, spec: spec, at: at)
        order.append(id)
        submitted += 1
        addTasks(spec.tasks, to: id, parent: nil, at: at)
    }

    private mutating func dispatched(_ w: WorkflowID, _ t: TaskID, lease: LeaseID, worker: String, kind: RunKind, at: Instant) {
        update(w, t) { task in
            task.isQueued = false
            task.lease = lease
            switch kind {
            case .attempt:
                task.state = .running
                task.attempts += 1
                task.worker = worker
                task.startedAt = at
                task.retryAt = nil
            case .poll: break
            case .revert:
                task.revertAttempts += 1
                task.retryAt = nil
            }
        }
        if let index = workflows[w]?.index[t] { leases[lease] = TaskRef(workflow: w, index: index) }
        nextLease = max(nextLease, lease.rawValue + 1)
    }

    private mutating func startAwait(_ w: WorkflowID, _ t: TaskID, _ future: Future, at: Instant) {
        closeLease(w, t)
        guard let position = workflows[w]?.index[t] else { return }
        update(w, t) { task in
            task.state = .waiting
            task.awaiting = future
            task.awaitNumber += 1
            task.awaitDeadline = future.timeout.map { at + $0 }
            task.wakeAt = nil
            if case .sleep(let duration) = future { task.wakeAt = at + duration }
        }
        switch future {
        case .key(let key, _):
            let number = workflows[w]?.tasks[position].awaitNumber ?? 0
            keyWaiters[key, default: []].append(KeyWaiter(task: TaskRef(workflow: w, index: position), awaitNumber: number))
        case .poll: enqueue(w, t)
        case .sleep: break
        }
    }

    /// Adds tasks (prefixed with `parent/` when spawned), links their deps and makes the free ones ready.
    mutating func addTasks(_ specs: [TaskSpec], to w: WorkflowID, parent: TaskID?, at: Instant) {
        guard var workflow = workflows.removeValue(forKey: w) else { return }
        let local = Set(specs.map(\.id))
        let fullID = { (id: String) in TaskID(parent.map { "\($0.rawValue)/\(id)" } ?? id) }
        let first = workflow.tasks.count
        for spec in specs {
            let deps = spec.deps.map { local.contains($0) ? fullID($0) : TaskID($0) }
            workflow.index[fullID(spec.id)] = workflow.tasks.count
            workflow.tasks.append(TaskRecord(id: fullID(spec.id), spec: spec, deps: deps, parent: parent))
        }
        workflow.unfinished += specs.count
        var freed: [Int] = []
        for position in first..<workflow.tasks.count {
            for dep in workflow.tasks[position].deps {
                guard let d = workflow.index[dep] else { continue }
                workflow.tasks[d].dependents.append(position)
                if workflow.tasks[d].state == .completed { workflow.tasks[position].pendingDeps -= 1 }
            }
            if workflow.tasks[position].pendingDeps == 0 { freed.append(position) }
        }
        workflows[w] = workflow
        for position in freed { makeReady(w, position, at: at) }
    }

    private mutating func complete(_ w: WorkflowID, _ t: TaskID, result: RawJSON, at: Instant) {
        closeLease(w, t)
        forgetKeyWait(w, t)
        guard let position = workflows[w]?.index[t], var workflow = workflows.removeValue(forKey: w) else { return }
        completions += 1
        workflow.tasks[position].state = .completed
        workflow.tasks[position].result = result
        workflow.tasks[position].error = nil
        workflow.tasks[position].finishedAt = at
        workflow.tasks[position].isQueued = false
        workflow.tasks[position].awaiting = nil
        workflow.tasks[position].spawnOutput = nil
        workflow.tasks[position].completionOrder = completions
        workflow.unfinished -= 1
        var freed: [Int] = []
        for dependent in workflow.tasks[position].dependents {
            workflow.tasks[dependent].pendingDeps -= 1
            if workflow.tasks[dependent].pendingDeps == 0 && workflow.tasks[dependent].state == .blocked {
                freed.append(dependent)
            }
        }
        workflows[w] = workflow
        for dependent in freed { makeReady(w, dependent, at: at) }
    }

    private mutating func makeReady(_ w: WorkflowID, _ position: Int, at: Instant) {
        workflows[w]?.tasks[position].state = .ready
        workflows[w]?.tasks[position].scheduledAt = at
        guard let id = workflows[w]?.tasks[position].id else { return }
        enqueue(w, id)
    }

    private mutating func enqueue(_ w: WorkflowID, _ t: TaskID) {
        guard let position = workflows[w]?.index[t], let spec = workflows[w]?.tasks[position].spec else { return }
        let ticket = nextTicket
        nextTicket += 1
        workflows[w]?.tasks[position].queueTicket = ticket
        workflows[w]?.tasks[position].isQueued = true
        queues[spec.queue, default: ReadyQueue()].push(
            ReadyEntry(priority: spec.priority, ticket: ticket, workflow: w, task: position))
        if touchedQueues.last != spec.queue { touchedQueues.append(spec.queue) }
    }

    /// Marks every unfinished task downstream of `t` skipped.
    private mutating func skipDownstream(of t: TaskID, in w: WorkflowID, at: Instant) {
        guard var workflow = workflows.removeValue(forKey: w), let start = workflow.index[t] else { return }
        var stack = workflow.tasks[start].dependents
        while let position = stack.popLast() {
            guard !workflow.tasks[position].state.isFinished else { continue }
            if let lease = workflow.tasks[position].lease { leases[lease] = nil }
            workflow.tasks[position].lease = nil
            workflow.tasks[position].isQueued = false
            workflow.tasks[position].state = .skipped
            workflow.tasks[position].finishedAt = at
            workflow.unfinished -= 1
            stack.append(contentsOf: workflow.tasks[position].dependents)
        }
        workflows[w] = workflow
    }

    /// Ends the workflow; every task not finished yet is cancelled and its lease closed. With `revert`, the
    /// completed tasks that name a revert handler are queued, latest completion first, and the workflow
    /// reverts before it takes `state`.
    private mutating func end(_ w: WorkflowID, as state: WorkflowState, error: TaskError?, revert: Bool, at: Instant) {
        guard var workflow = workflows.removeValue(forKey: w) else { return }
        for position in workflow.tasks.indices where !workflow.tasks[position].state.isFinished {
            if case .key(let key, _) = workflow.tasks[position].awaiting {
                keyWaiters[key]?.removeAll { $0.task == TaskRef(workflow: w, index: position) }
                if keyWaiters[key]?.isEmpty == true { keyWaiters[key] = nil }
            }
            if let lease = workflow.tasks[position].lease { leases[lease] = nil }
            workflow.tasks[position].lease = nil
            workflow.tasks[position].isQueued = false
            workflow.tasks[position].state = .cancelled
            workflow.tasks[position].finishedAt = at
        }
        workflow.unfinished = 0
        workflow.error = error
        workflow.revertQueue = revert
            ? workflow.tasks.indices.filter { workflow.tasks[$0].state == .completed && workflow.tasks[$0].spec.revert != nil }
                .sorted { workflow.tasks[$0].completionOrder > workflow.tasks[$1].completionOrder }
            : []
        if workflow.revertQueue.isEmpty {
            workflow.state = state
            workflow.finishedAt = at
        } else {
            workflow.state = .reverting
            workflow.endState = state
        }
        workflows[w] = workflow
    }

    /// Drops the task from the waiters of the key it awaits, if any.
    private mutating func forgetKeyWait(_ w: WorkflowID, _ t: TaskID) {
        guard let position = workflows[w]?.index[t], case .key(let key, _) = workflows[w]?.tasks[position].awaiting
        else { return }
        keyWaiters[key]?.removeAll { $0.task == TaskRef(workflow: w, index: position) }
        if keyWaiters[key]?.isEmpty == true { keyWaiters[key] = nil }
    }

    private mutating func closeLease(_ w: WorkflowID, _ t: TaskID) {
        guard let position = workflows[w]?.index[t] else { return }
        if let lease = workflows[w]?.tasks[position].lease { leases[lease] = nil }
        workflows[w]?.tasks[position].lease = nil
    }

    private mutating func update(_ w: WorkflowID, _ t: TaskID, _ body: (inout TaskRecord) -> Void) {
        guard let position = workflows[w]?.index[t], workflows[w] != nil else { return }
        body(&workflows[w]![position: position])
    }
}

extension Workflow {
    fileprivate subscript(position position: Int) -> TaskRecord {
        get { tasks[position] }
        set { tasks[position] = newValue }
    }
}
