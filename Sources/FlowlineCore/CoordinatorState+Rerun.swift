/// The folds of SPEC §11's second chances: trigger rules, whole-workflow retries and reruns.
extension CoordinatorState {
    // MARK: - Trigger rules

    /// The task at `slot` ended without completing (failed for good, or skipped): its unfinished dependents that
    /// need every dep completed are skipped in turn; those with a trigger rule count the dep as ended and run (or
    /// are skipped) once every dep has ended.
    mutating func endedWithoutCompleting(_ slot: Slot, _ w: WorkflowID, at: Instant) {
        let wi = slot.workflow
        var stack = [slot.task]
        while let position = stack.popLast() {
            for dependent in modify((wi, position), { $0.dependents }) {
                let (finished, rule) = modify((wi, dependent)) { ($0.state.isFinished, $0.spec.runIf) }
                guard !finished else { continue }
                if rule.waitsForEveryEnd {
                    let free = modify((wi, dependent)) { task in
                        task.pendingDeps -= 1
                        return task.pendingDeps == 0 && task.state == .blocked
                    }
                    if free && !release((wi, dependent), w, at: at) { stack.append(dependent) }
                } else {
                    skip((wi, dependent), at: at)
                    stack.append(dependent)
                }
            }
        }
    }

    /// A blocked task whose deps all ended (completed, for `all_completed`): ready, or skipped when it runs only
    /// if a dep failed and none did. True when it became ready.
    mutating func release(_ slot: Slot, _ w: WorkflowID, at: Instant) -> Bool {
        let skips = withWorkflow(slot.workflow) { workflow in
            let task = workflow.tasks[slot.task]
            guard task.spec.runIf == .anyFailed else { return false }
            return !task.deps.contains { dep in
                guard let position = workflow.position(of: dep) else { return false }
                return workflow.tasks[position].state.failedForGood
            }
        }
        if skips {
            skip(slot, at: at)
            return false
        }
        makeReady(slot, w, at: at)
        return true
    }

    private mutating func skip(_ slot: Slot, at: Instant) {
        closeLease(slot)
        modify(slot) { task in
            task.isQueued = false
            task.state = .skipped
            task.finishedAt = at
        }
        withWorkflow(slot.workflow) { $0.unfinished -= 1 }
    }

    /// The unfinished tasks downstream of a task that failed for good: after the fold of that failure, the tasks
    /// with a trigger rule that still wait for their deps, and what depends on them.
    func unfinishedDownstreamOfFailures(_ workflow: borrowing Workflow) -> Set<Int> {
        let tasks = workflow.tasks
        var reached = Set<Int>()
        var stack = tasks.indices.filter { tasks[$0].state.failedForGood }
        var seen = Set(stack)
        while let position = stack.popLast() {
            for dependent in tasks[position].dependents where seen.insert(dependent).inserted {
                if !tasks[dependent].state.isFinished { reached.insert(dependent) }
                stack.append(dependent)
            }
        }
        return reached
    }

    /// After a task failed for good in a workflow that goes on (trigger rules): cancels every unfinished task that
    /// neither waits downstream of a failure nor is needed by one that does (its deps, and the tasks a waiting
    /// spawner waits on).
    mutating func cancelUnneeded(_ wi: WorkflowIndex, _ w: WorkflowID, at: Instant) {
        let workflow = workflows.values[wi]
        let tasks = workflow.tasks
        var needed = unfinishedDownstreamOfFailures(workflow)
        var stack = Array(needed)
        var spawned: [TaskID: [Int]] = [:]
        for position in tasks.indices {
            if let parent = tasks[position].parent { spawned[parent, default: []].append(position) }
        }
        while let position = stack.popLast() {
            let more =
                tasks[position].deps.compactMap { workflow.position(of: $0) } + (spawned[tasks[position].id] ?? [])
            for next in more where !tasks[next].state.isFinished && needed.insert(next).inserted { stack.append(next) }
        }
        for position in tasks.indices where !tasks[position].state.isFinished && !needed.contains(position) {
            forgetKeyWait((wi, position), w)
            closeLease((wi, position))
            modify((wi, position)) { task in
                task.isQueued = false
                task.state = .cancelled
                task.finishedAt = at
            }
            withWorkflow(wi) { $0.unfinished -= 1 }
        }
    }

    // MARK: - Reruns and workflow retries

    /// What `workflow.rerun` of the ended workflow `w` puts back to run (positions of submitted tasks, each with
    /// the tasks it spawned): the tasks that did not complete or whose work was undone, those named in `from` and
    /// everything downstream of them. A spawned task goes back with the submitted task above it, which runs again
    /// and spawns anew. Nil when nothing would run (every task completed and `from` is empty), or `w` is unknown.
    public func rerunPlan(_ w: WorkflowID, from: [TaskID]) -> Set<Int>? {
        guard let workflow = workflows[w] else { return nil }
        let tasks = workflow.tasks
        func root(_ position: Int) -> Int {
            var p = position
            while let parent = tasks[p].parent, let up = workflow.position(of: parent) { p = up }
            return p
        }
        var stack = tasks.indices.filter { tasks[$0].state != .completed }
        stack += from.compactMap { workflow.position(of: $0) }
        var back = Set<Int>()
        var seen = Set<Int>()
        while let position = stack.popLast() {
            guard seen.insert(position).inserted else { continue }
            let top = root(position)
            back.insert(top)
            stack.append(top)
            stack.append(contentsOf: tasks[position].dependents)
            // Everything a submitted task spawned goes with it; their downstream too.
            if top == position {
                for spawned in tasks.indices where tasks[spawned].parent != nil && root(spawned) == top {
                    stack.append(spawned)
                }
            }
        }
        return back.isEmpty ? nil : back
    }

    /// Puts tasks back to run: every submitted task for a workflow retry (`plan` nil, the next attempt), else the
    /// positions `rerunPlan` gave (the workflow's attempt starts again at 1). The tasks those spawned are dropped
    /// (the spawner spawns anew); what stays keeps its result. The workflow is `running` from `at`.
    mutating func putBack(_ wi: WorkflowIndex, _ w: WorkflowID, plan: Set<Int>?, at: Instant) {
        // Tasks are removed here, which `withWorkflow` does not count: the workflow is taken out (uncounted) and
        // inserted again (counted).
        var workflow = workflows.values[wi]
        remove(w)
        let old = workflow.tasks
        func root(_ position: Int) -> Int {
            var p = position
            while let parent = old[p].parent, let up = workflow.position(of: parent) { p = up }
            return p
        }
        let back = plan ?? Set(old.indices.filter { old[$0].parent == nil })
        var kept: [TaskRecord] = []
        var goesBack: [Bool] = []
        for position in old.indices {
            let top = root(position)
            if back.contains(top) && top != position { continue }
            var task = old[position]
            task.dependents = []
            if back.contains(position) {
                task.resetForAnotherRun()
                goesBack.append(true)
            } else {
                goesBack.append(false)
            }
            kept.append(task)
        }
        workflow.tasks = []
        workflow.reindex()
        for task in kept { workflow.append(task) }
        for position in workflow.tasks.indices {
            for dep in workflow.tasks[position].deps {
                if let d = workflow.position(of: dep) { workflow.tasks[d].dependents.append(position) }
            }
        }
        for position in workflow.tasks.indices where goesBack[position] {
            let rule = workflow.tasks[position].spec.runIf
            workflow.tasks[position].pendingDeps = workflow.tasks[position].deps.count {
                guard let d = workflow.position(of: $0) else { return false }
                let state = workflow.tasks[d].state
                return rule.waitsForEveryEnd ? !state.isFinished : state != .completed
            }
        }
        workflow.unfinished = goesBack.count { $0 }
        workflow.state = .running
        workflow.finishedAt = nil
        workflow.error = nil
        workflow.failedTask = nil
        workflow.reverted = false
        workflow.revertFailures = []
        workflow.endState = nil
        workflow.revertQueue = []
        workflow.retryAt = nil
        workflow.runningSince = at
        workflow.attempt = plan == nil ? workflow.attempt + 1 : 1
        insert(workflow, as: w)
        guard let wi = workflows.index(forKey: w) else { return }
        for position in goesBack.indices where goesBack[position] {
            guard modify((wi, position), { $0.pendingDeps == 0 }) else { continue }
            if !release((wi, position), w, at: at) { endedWithoutCompleting((wi, position), w, at: at) }
        }
    }
}

extension TaskState {
    /// Failed for good: what trigger rules count as a failed dep (SPEC §11: `timed_out` counts, `cancelled` and
    /// `skipped` do not).
    public var failedForGood: Bool { self == .failed || self == .timedOut }
}

extension TaskRecord {
    /// Back to `blocked` with nothing of its last run, for another one with a fresh attempt budget; attempt numbers
    /// go on counting.
    mutating func resetForAnotherRun() {
        state = .blocked
        attemptBase = attempts
        worker = nil
        scheduledAt = nil
        startedAt = nil
        finishedAt = nil
        retryAt = nil
        progress = nil
        result = nil
        error = nil
        lease = nil
        isQueued = false
        awaiting = nil
        awaitDeadline = nil
        wakeAt = nil
        spawnOutput = nil
        completionOrder = 0
        revertAttempts = 0
    }
}
