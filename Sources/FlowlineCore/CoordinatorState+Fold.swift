/// Where a task is during a fold: its workflow's position in the dictionary (no hashing to reach it again while
/// nothing is inserted or removed) and its position in the workflow.
typealias Slot = (workflow: WorkflowIndex, task: Int)

// Reads go through `inout` too (`withWorkflow`, `modify`): `Dictionary.Values` has a `_modify` but no `_read`,
// so a plain `workflows.values[i].tasks[j].lease` copies the whole workflow (a retain per field) to read one
// field. Replay does several such reads per event.

extension CoordinatorState {
    /// Folds one event into the state. Total: replay calls only this, and an event for a workflow that
    /// is not there (compacted away) changes nothing. Each event hashes its workflow id once: replay speed
    /// is recovery speed.
    mutating func fold(_ event: Event) { fold(event, built: nil) }

    /// `fold`, with the workflow of a `.workflowSubmitted` already built by `ReplayStep` (on another thread), or
    /// with the position in `workflows` of the event's workflow when the coordinator has it at hand (used, after a
    /// check, for the events of a dispatch and a completion, instead of hashing the id again), and the task's
    /// position in it (checked too: a workflow of more than `Workflow.smallSize` tasks finds a task by hashing its id).
    mutating func fold(
        _ event: Event,
        built: consuming Workflow?,
        in hint: WorkflowIndex? = nil,
        task taskHint: Int? = nil
    ) {
        switch event {
        case .workflowSubmitted(let spec, let at): submit(spec, at: at, built: consume built)
        case .taskDispatched(let w, let t, let lease, let worker, let kind, let at):
            guard let slot = locate(w, t, hint, taskHint) else { return }
            let limited = modify(slot) { task in
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
                return task.spec.limits
            }
            if !limited.isEmpty { countLimits(limited, 1, at: at) }
            leases[lease] = TaskRef(workflow: w, index: slot.task)
            nextLease = max(nextLease, lease.rawValue + 1)
        case .taskCompleted(let w, let t, let result, let at):
            guard let slot = locate(w, t, hint, taskHint) else { return }
            complete(slot, w, result: result, at: at)
        case .taskAttemptFailed(let w, let t, let error, let retryAt, let at):
            guard let slot = locate(w, t) else { return }
            closeLease(slot)
            forgetKeyWait(slot, w)
            modify(slot) { task in
                task.error = error
                task.retryAt = retryAt
                task.isQueued = false
                task.awaiting = nil
                // The await ended with the attempt: its timers must not reach a later wait (a spawn's).
                task.awaitDeadline = nil
                task.wakeAt = nil
                task.state = retryAt != nil ? .ready : (error.type == TaskError.timeout.type ? .timedOut : .failed)
                if retryAt == nil { task.finishedAt = at }
            }
            if retryAt == nil {
                workflows.values[slot.workflow].unfinished -= 1
                endedWithoutCompleting(slot, w, at: at)
            }
        case .taskRequeued(let w, let t, let at):
            guard let slot = locate(w, t) else { return }
            modify(slot) { task in
                task.retryAt = nil
                task.wakeAt = nil
                if task.state == .ready { task.scheduledAt = at }
            }
            enqueue(slot, w)
        case .leaseReleased(let w, let t, _):
            guard let slot = locate(w, t) else { return }
            closeLease(slot)
            modify(slot) { task in
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
            enqueue(slot, w)
        case .taskProgressed(let w, let t, let progress, _):
            guard let slot = locate(w, t) else { return }
            modify(slot) { $0.progress = progress }
        case .taskAwaiting(let w, let t, let future, let at): startAwait(w, t, future, at: at)
        case .pollAnswered(let w, let t, let at):
            guard let slot = locate(w, t) else { return }
            closeLease(slot)
            modify(slot) { task in
                if case .poll(_, _, let interval, _) = task.awaiting { task.wakeAt = at + interval }
            }
        case .tasksSpawned(let w, let t, let tasks, let output, let at):
            guard let slot = locate(w, t) else { return }
            closeLease(slot)
            modify(slot) { task in
                task.state = .waiting
                task.spawnOutput = TaskID("\(t.rawValue)/\(output)")
            }
            addTasks(tasks, to: w, parent: t, at: at)
        case .futureKept(let key, let outcome, let at):
            if keptFutures[key] == nil { keptFutures[key] = KeptFuture(outcome: outcome, at: at) }
        case .futureUsed(let key, _), .futureExpired(let key, _): keptFutures[key] = nil
        case .resolutionApplied(let key, let id, let matched, let at):
            if resolution(id, of: key) == nil {
                setResolution(id, of: key, to: AppliedResolution(matched: matched, at: at))
            }
        case .resolutionExpired(let key, let id, _): setResolution(id, of: key, to: nil)
        case .revertStarted(let w, let t, _):
            guard let slot = locate(w, t) else { return }
            modify(slot) { task in
                // A task reverted after failing (`revert_on_failure`) keeps its error: its revert run gets it.
                if task.state == .completed { task.error = nil }
                task.state = .reverting
            }
            enqueue(slot, w)
        case .taskReverted(let w, let t, _):
            guard let slot = locate(w, t) else { return }
            closeLease(slot)
            modify(slot) { $0.state = .reverted }
            withWorkflow(slot.workflow) { workflow in
                if !workflow.revertQueue.isEmpty { workflow.revertQueue.removeFirst() }
            }
        case .revertFailed(let w, let t, let error, let retryAt, _):
            guard let slot = locate(w, t) else { return }
            closeLease(slot)
            modify(slot) { task in
                // A failed task's own error stays while its revert is tried again, for the next revert run.
                if retryAt == nil || task.result != nil { task.error = error }
                task.retryAt = retryAt
                if retryAt == nil { task.state = .revertFailed }
            }
            if retryAt == nil {
                withWorkflow(slot.workflow) { workflow in
                    if !workflow.revertQueue.isEmpty { workflow.revertQueue.removeFirst() }
                    workflow.revertFailures.append(t)
                }
            }
        case .workflowReverted(let w, let at):
            guard let wi = workflows.index(forKey: w) else { return }
            withWorkflow(wi) { workflow in
                workflow.state = workflow.endState ?? .failed
                workflow.reverted = workflow.revertFailures.isEmpty
                workflow.endState = nil
                workflow.finishedAt = at
            }
        case .workflowCompleted(let w, let at): end(w, as: .completed, error: nil, revert: false, at: at, hint: hint)
        case .workflowFailed(let w, let t, let error, let at):
            // A spawning task fails with its output, and the output's own downstream is skipped too.
            var failed: TaskID? = t
            while let id = failed, let slot = locate(w, id) {
                skipDownstream(of: id, in: w, at: at)
                failed = modify(slot) { $0.spawnOutput }.flatMap { output in
                    let state = locate(w, output).map { modify($0) { $0.state } }
                    return state == .failed || state == .timedOut ? output : nil
                }
            }
            end(w, as: .failed, error: error, revert: true, at: at, failed: t)
        case .workflowCancelled(let w, let reason, let revert, let at):
            let error = TaskError(type: "cancelled", message: reason, retryable: false)
            end(w, as: .cancelled, error: error, revert: revert, at: at)
        case .workflowTimedOut(let w, let at):
            let error = TaskError(type: "timeout", message: "the workflow's timeout passed")
            end(w, as: .timedOut, error: error, revert: false, at: at)
        case .workflowsCompacted(let ids, _):
            let gone = Set(ids.filter { workflows[$0]?.state.isTerminal == true })
            for id in gone { remove(id) }
            order.removeAll { gone.contains($0) }
        case .scheduleCreated(let spec, let nextFire, _):
            guard schedules[spec.id] == nil, let expression = try? CronExpression(parsing: spec.cron) else { return }
            schedules[spec.id] = Schedule(spec: spec, expression: expression, nextFireAt: nextFire)
        case .scheduleDeleted(let id, _): schedules[id] = nil
        case .schedulePaused(let id, let paused, let nextFire, _):
            schedules[id]?.paused = paused
            schedules[id]?.nextFireAt = nextFire
        case .scheduleFired(let id, let scheduled, let run, let nextFire, _):
            guard var schedule = schedules.removeValue(forKey: id) else { return }
            // Runs seen ended are dropped here, so the list stays as short as the runs that overlap.
            schedule.runs = schedule.running(in: self)
            if let run {
                schedule.runs.append(run)
                schedule.lastFireAt = scheduled
            }
            schedule.nextFireAt = nextFire
            schedules[id] = schedule
        case .workflowStarted(let w, let at):
            guard let wi = workflows.index(forKey: w), withWorkflow(wi, { $0.held }) else { return }
            withWorkflow(wi) { $0.held = false }
            let count = withWorkflow(wi) { $0.tasks.count }
            for position in 0..<count
            where modify((wi, position), { $0.state == .blocked && $0.pendingDeps == 0 }) {
                let ticket = takeTicket()
                modify((wi, position)) { $0.makeReady(at: at, ticket: ticket) }
                pushQueued((wi, position), ticket: ticket, w)
            }
        case .workflowFailing(let w, let t, let error, let at):
            guard let wi = workflows.index(forKey: w) else { return }
            withWorkflow(wi) { workflow in
                if workflow.failedTask == nil {
                    workflow.failedTask = t
                    workflow.error = error
                }
            }
            cancelUnneeded(wi, w, at: at)
        case .workflowRetrying(let w, let retryAt, _):
            guard let wi = workflows.index(forKey: w) else { return }
            withWorkflow(wi) { workflow in
                workflow.state = .running
                workflow.finishedAt = nil
                workflow.retryAt = retryAt
            }
        case .workflowRestarted(let w, let at):
            guard let wi = workflows.index(forKey: w) else { return }
            putBack(wi, w, plan: nil, at: at)
        case .workflowRerun(let w, let from, let at):
            guard let wi = workflows.index(forKey: w), let plan = rerunPlan(w, from: from) else { return }
            putBack(wi, w, plan: plan, at: at)
        case .workflowPaused(let w, _):
            // Its queue entries stay; dispatch drops each as it comes up (`holds`), and `resume` queues them again.
            guard let wi = workflows.index(forKey: w) else { return }
            withWorkflow(wi) { $0.paused = true }
        case .workflowResumed(let w, _):
            guard let wi = workflows.index(forKey: w), withWorkflow(wi, { $0.paused }) else { return }
            withWorkflow(wi) { $0.paused = false }
            requeue(wi)
        case .queuePaused(let queue, _): pausedQueues.insert(queue)
        case .queueResumed(let queue, _):
            guard pausedQueues.remove(queue) != nil else { return }
            if !isReplaying && queues[queue] != nil { touchedQueues.append(queue) }
        case .limitSet(let key, let limit, let at):
            // A new bucket starts full; a changed one keeps its tokens, up to the new size.
            if limit.perSecond != nil {
                let old = limits[key].flatMap { old in
                    old.perSecond.flatMap { r in buckets[key]?.tokens(at: at, rate: r, capacity: old.capacity) }
                }
                buckets[key] = TokenBucket(tokens: min(old ?? limit.capacity, limit.capacity), at: at)
            } else {
                buckets[key] = nil
            }
            limits[key] = limit
            limitsFreed = true
        case .limitDeleted(let key, _):
            limits[key] = nil
            buckets[key] = nil
            limitsFreed = true
        }
    }

    // MARK: - Finding and changing tasks

    mutating func locate(
        _ w: WorkflowID,
        _ t: TaskID,
        _ hint: WorkflowIndex? = nil,
        _ taskHint: Int? = nil
    ) -> Slot? {
        guard let wi = index(of: w, hint: hint),
            let position = withWorkflow(wi, { Self.position(of: t, in: &$0, hint: taskHint) })
        else {
            return nil
        }
        return (wi, position)
    }

    /// The position of task `t` in `workflow`: `hint` if it is `t`'s, else a search.
    private static func position(of t: TaskID, in workflow: inout Workflow, hint: Int?) -> Int? {
        if let hint, workflow.tasks.indices.contains(hint), workflow.tasks[hint].id == t { return hint }
        return workflow.position(of: t)
    }

    /// The position of `w` in `workflows`: `hint` if it is `w`'s (comparing ids that share their storage is cheap),
    /// else a lookup.
    private func index(of w: WorkflowID, hint: WorkflowIndex?) -> WorkflowIndex? {
        if let hint, workflows.keys[hint] == w { return hint }
        return workflows.index(forKey: w)
    }

    /// Changes or reads the task at `slot` in place.
    mutating func modify<R>(_ slot: Slot, _ body: (inout TaskRecord) -> R) -> R {
        updateTask(slot.workflow, slot.task, body)
    }

    // MARK: - Pieces of the fold

    /// Builds the workflow, its tasks and their queue entries before it goes into `workflows`: one insert, and no
    /// lookup to find it again. `built` is what `Workflow(submitted:at:)` made of the same spec, if it ran already.
    private mutating func submit(_ spec: WorkflowSpec, at: Instant, built: consuming Workflow?) {
        guard let id = spec.id else { return }
        if isReplaying { return admitReplayed(spec, id: id, at: at, built: built) }
        guard workflows.index(forKey: id) == nil else { return }
        admit(spec, id: id, at: at, built: built)
    }

    /// `admit` while replaying, which queues nothing (`rebuildQueues` does): the workflow is made ready as if it
    /// were new and goes in only if `workflows` holds no workflow by its id, hashing the id once where a check and
    /// an insert hash it twice. Replay submits every workflow once, so the check almost never finds one.
    private mutating func admitReplayed(_ spec: WorkflowSpec, id: WorkflowID, at: Instant, built: consuming Workflow?) {
        var workflow: Workflow
        switch consume built {
        case .some(let built): workflow = built
        case .none: workflow = Workflow(submitted: spec, id: id, at: at)
        }
        workflow.number = submitted + 1
        var ticket = nextTicket
        if let startAt = spec.startAt, startAt > at { workflow.held = true }
        for position in workflow.tasks.indices where !workflow.held && workflow.tasks[position].pendingDeps == 0 {
            workflow.tasks[position].makeReady(at: at, ticket: ticket)
            ticket += 1
        }
        guard insertIfAbsent(consume workflow, as: id) else { return }
        submitted += 1
        nextTicket = ticket
        order.append(id)
    }

    /// The fold of a `.workflowSubmitted` whose id `workflows` does not hold: the coordinator, which has just
    /// checked, calls it directly to save hashing the id again.
    mutating func admit(_ spec: WorkflowSpec, id: WorkflowID, at: Instant, built: consuming Workflow?) {
        submitted += 1
        var workflow: Workflow
        // Moved, not copied: a copy would share the tasks, and the first change to one would copy them all.
        switch consume built {
        case .some(let built): workflow = built
        case .none: workflow = Workflow(submitted: spec, id: id, at: at)
        }
        workflow.number = submitted
        // Until its `start_at` a workflow's tasks stay blocked; `.workflowStarted` frees them.
        if let startAt = spec.startAt, startAt > at { workflow.held = true }
        for position in workflow.tasks.indices where !workflow.held && workflow.tasks[position].pendingDeps == 0 {
            let ticket = takeTicket()
            workflow.tasks[position].makeReady(at: at, ticket: ticket)
            push(
                workflow.tasks[position].spec.queue,
                workflow.tasks[position].spec.priority,
                workflow.tasks[position].laneKey,
                ticket: ticket,
                id,
                position
            )
        }
        insert(consume workflow, as: id)
        order.append(id)
    }

    private mutating func startAwait(_ w: WorkflowID, _ t: TaskID, _ future: Future, at: Instant) {
        guard let slot = locate(w, t) else { return }
        closeLease(slot)
        modify(slot) { task in
            task.state = .waiting
            task.awaiting = future
            task.awaitNumber += 1
            task.awaitDeadline = future.timeout.map { at + $0 }
            task.wakeAt = nil
            if case .sleep(let duration) = future { task.wakeAt = at + duration }
        }
        switch future {
        case .key(let key, _):
            let number = modify(slot) { $0.awaitNumber }
            keyWaiters[key, default: []].append(
                KeyWaiter(task: TaskRef(workflow: w, index: slot.task), awaitNumber: number)
            )
        case .poll: enqueue(slot, w)
        case .sleep: break
        }
    }

    /// Adds tasks (prefixed with `parent/` when spawned), links their deps and makes the free ones ready.
    mutating func addTasks(_ specs: [TaskSpec], to w: WorkflowID, parent: TaskID?, at: Instant) {
        guard let wi = workflows.index(forKey: w) else { return }
        let added = withWorkflow(wi) { $0.addTasks(specs, parent: parent) }
        for position in added where modify((wi, position), { $0.pendingDeps == 0 }) {
            if !release((wi, position), w, at: at) { endedWithoutCompleting((wi, position), w, at: at) }
        }
    }

    private mutating func complete(_ slot: Slot, _ w: WorkflowID, result: RawJSON, at: Instant) {
        closeLease(slot)
        forgetKeyWait(slot, w)
        completions += 1
        let order = completions
        modify(slot) { $0.complete(result: result, at: at, order: order) }
        let freed = withWorkflow(slot.workflow) { workflow in
            workflow.unfinished -= 1
            var freed: [Int] = []
            for dependent in workflow.tasks[slot.task].dependents {
                workflow.tasks[dependent].pendingDeps -= 1
                if workflow.tasks[dependent].pendingDeps == 0 && workflow.tasks[dependent].state == .blocked {
                    freed.append(dependent)
                }
            }
            return freed
        }
        for dependent in freed where !release((slot.workflow, dependent), w, at: at) {
            endedWithoutCompleting((slot.workflow, dependent), w, at: at)
        }
    }

    mutating func makeReady(_ slot: Slot, _ w: WorkflowID, at: Instant) {
        let ticket = takeTicket()
        modify(slot) { $0.makeReady(at: at, ticket: ticket) }
        pushQueued(slot, ticket: ticket, w)
    }

    private mutating func enqueue(_ slot: Slot, _ w: WorkflowID) {
        let ticket = takeTicket()
        modify(slot) { $0.enqueue(ticket: ticket) }
        pushQueued(slot, ticket: ticket, w)
    }

    mutating func takeTicket() -> UInt64 {
        defer { nextTicket += 1 }
        return nextTicket
    }

    /// Puts the task at `slot`, queued under `ticket`, into its ready queue.
    mutating func pushQueued(_ slot: Slot, ticket: UInt64, _ w: WorkflowID) {
        // While replaying, the queues are rebuilt once at the end (`rebuildQueues`), not kept up event by event.
        guard !isReplaying else { return }
        // The queue and priority only: a copy of the whole spec is a retain and release per field.
        let (queue, priority, lane) = modify(slot) { ($0.spec.queue, $0.spec.priority, $0.laneKey) }
        push(queue, priority, lane, ticket: ticket, w, slot.task)
    }

    private mutating func push(
        _ queue: String,
        _ priority: Int,
        _ lane: LaneKey,
        ticket: UInt64,
        _ w: WorkflowID,
        _ position: Int
    ) {
        guard !isReplaying else { return }
        queues[queue, default: QueueLanes()].push(
            ReadyEntry(priority: priority, ticket: ticket, workflow: w, task: position),
            lane
        )
        if touchedQueues.last != queue { touchedQueues.append(queue) }
    }

    /// Marks every unfinished task downstream of `t` skipped.
    private mutating func skipDownstream(of t: TaskID, in w: WorkflowID, at: Instant) {
        guard let slot = locate(w, t) else { return }
        let wi = slot.workflow
        var stack = modify(slot) { $0.dependents }
        while let position = stack.popLast() {
            guard !modify((wi, position), { $0.state.isFinished }) else { continue }
            closeLease((wi, position))
            modify((wi, position)) { task in
                task.isQueued = false
                task.state = .skipped
                task.finishedAt = at
            }
            withWorkflow(wi) { $0.unfinished -= 1 }
            stack.append(contentsOf: modify((wi, position)) { $0.dependents })
        }
    }

    /// Ends the workflow; every task not finished yet is cancelled and its lease closed. With `revert`, the
    /// completed tasks that name a revert handler are queued, latest completion first, and the workflow
    /// reverts before it takes `state`.
    private mutating func end(
        _ w: WorkflowID,
        as state: WorkflowState,
        error: TaskError?,
        revert: Bool,
        at: Instant,
        hint: WorkflowIndex? = nil,
        failed: TaskID? = nil
    ) {
        guard let wi = index(of: w, hint: hint) else { return }
        let count = withWorkflow(wi) { $0.tasks.count }
        for position in 0..<count where !modify((wi, position), { $0.state.isFinished }) {
            forgetKeyWait((wi, position), w)
            closeLease((wi, position))
            modify((wi, position)) { task in
                task.isQueued = false
                task.state = .cancelled
                task.finishedAt = at
            }
        }
        withWorkflow(wi) { workflow in
            workflow.unfinished = 0
            // A workflow that went on after a task failed (trigger rules) fails with that task's error.
            if workflow.failedTask == nil || state != .failed { workflow.error = error }
            workflow.failedTask = nil
            workflow.retryAt = nil
            let tasks = workflow.tasks
            workflow.revertQueue =
                revert
                ? tasks.indices.filter { tasks[$0].state == .completed && tasks[$0].spec.revert != nil }
                    .sorted { tasks[$0].completionOrder > tasks[$1].completionOrder }
                : []
            // SPEC §11: the failed task's own revert (`revert_on_failure`) runs first, the one that failed the
            // workflow before any other that failed while trigger rules let the workflow go on.
            if revert && state == .failed {
                let own = tasks.indices.filter {
                    (tasks[$0].state == .failed || tasks[$0].state == .timedOut) && tasks[$0].spec.revertOnFailure
                        && tasks[$0].spec.revert != nil
                }
                let first = own.filter { tasks[$0].id == failed } + own.filter { tasks[$0].id != failed }
                workflow.revertQueue = first + workflow.revertQueue
            }
            if workflow.revertQueue.isEmpty {
                workflow.state = state
                workflow.finishedAt = at
            } else {
                workflow.state = .reverting
                workflow.endState = state
            }
        }
    }

    /// Drops the task from the waiters of the key it awaits, if any.
    mutating func forgetKeyWait(_ slot: Slot, _ w: WorkflowID) {
        guard case .key(let key, _) = modify(slot, { $0.awaiting }) else { return }
        keyWaiters[key]?.removeAll { $0.task == TaskRef(workflow: w, index: slot.task) }
        if keyWaiters[key]?.isEmpty == true { keyWaiters[key] = nil }
    }

    mutating func closeLease(_ slot: Slot) {
        guard let (lease, limited) = modify(slot, { task in task.lease.take().map { ($0, task.spec.limits) } }) else {
            return
        }
        leases[lease] = nil
        if !limited.isEmpty { countLimits(limited, -1, at: .zero) }
    }
}
