extension CoordinatorState {
    /// Folds one event into the state. Total: replay calls only this, and an event for a workflow that
    /// is not there (compacted away) changes nothing.
    mutating func fold(_ event: Event) {
        switch event {
        case .workflowSubmitted(let spec, let at): submit(spec, at: at)
        case .taskDispatched(let w, let t, let lease, let worker, let at):
            update(w, t) { task in
                task.state = .running
                task.attempts += 1
                task.worker = worker
                task.startedAt = at
                task.retryAt = nil
                task.lease = lease
            }
            if let index = workflows[w]?.index[t] { leases[lease] = TaskRef(workflow: w, index: index) }
            nextLease = max(nextLease, lease.rawValue + 1)
        case .taskCompleted(let w, let t, let result, let at): complete(w, t, result: result, at: at)
        case .taskAttemptFailed(let w, let t, let error, let retryAt, let at):
            closeLease(w, t)
            update(w, t) { task in
                task.error = error
                task.retryAt = retryAt
                task.state = retryAt != nil ? .ready : (error.type == TaskError.timeout.type ? .timedOut : .failed)
                if retryAt == nil { task.finishedAt = at }
            }
            if retryAt == nil { workflows[w]?.unfinished -= 1 }
        case .taskRequeued(let w, let t, let at):
            update(w, t) { task in
                task.retryAt = nil
                task.scheduledAt = at
            }
            enqueue(w, t)
        case .leaseReleased(let w, let t, _):
            closeLease(w, t)
            update(w, t) { task in
                task.state = .ready
                task.attempts -= 1
            }
            enqueue(w, t)
        case .taskProgressed(let w, let t, let progress, _): update(w, t) { $0.progress = progress }
        case .workflowCompleted(let w, let at): end(w, as: .completed, error: nil, at: at)
        case .workflowFailed(let w, let t, let error, let at):
            skipDownstream(of: t, in: w, at: at)
            end(w, as: .failed, error: error, at: at)
        case .workflowCancelled(let w, let reason, let at):
            end(w, as: .cancelled, error: TaskError(type: "cancelled", message: reason, retryable: false), at: at)
        case .workflowTimedOut(let w, let at):
            end(w, as: .timedOut, error: TaskError(type: "timeout", message: "the workflow's timeout passed"), at: at)
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
        guard let position = workflows[w]?.index[t], var workflow = workflows.removeValue(forKey: w) else { return }
        workflow.tasks[position].state = .completed
        workflow.tasks[position].result = result
        workflow.tasks[position].error = nil
        workflow.tasks[position].finishedAt = at
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
            workflow.tasks[position].state = .skipped
            workflow.tasks[position].finishedAt = at
            workflow.unfinished -= 1
            stack.append(contentsOf: workflow.tasks[position].dependents)
        }
        workflows[w] = workflow
    }

    /// Ends the workflow; every task not finished yet is cancelled and its lease closed.
    private mutating func end(_ w: WorkflowID, as state: WorkflowState, error: TaskError?, at: Instant) {
        guard var workflow = workflows.removeValue(forKey: w) else { return }
        for position in workflow.tasks.indices where !workflow.tasks[position].state.isFinished {
            if let lease = workflow.tasks[position].lease { leases[lease] = nil }
            workflow.tasks[position].lease = nil
            workflow.tasks[position].state = .cancelled
            workflow.tasks[position].finishedAt = at
        }
        workflow.unfinished = 0
        workflow.state = state
        workflow.error = error
        workflow.finishedAt = at
        workflows[w] = workflow
    }

    private mutating func closeLease(_ w: WorkflowID, _ t: TaskID) {
        guard let position = workflows[w]?.index[t] else { return }
        if let lease = workflows[w]?.tasks[position].lease { leases[lease] = nil }
        workflows[w]?.tasks[position].lease = nil
    }

    private mutating func update(_ w: WorkflowID, _ t: TaskID, _ body: (inout TaskRecord) -> Void) {
        guard let position = workflows[w]?.index[t] else { return }
        body(&workflows[w]![position: position])
    }
}

extension Workflow {
    fileprivate subscript(position position: Int) -> TaskRecord {
        get { tasks[position] }
        set { tasks[position] = newValue }
    }
}
