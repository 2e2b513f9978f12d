extension Coordinator {
    /// Hands queued runs of every queue that changed to workers with free slots.
    mutating func dispatchTouchedQueues(at now: Instant, into decision: inout Decision) {
        if state.limitsFreed {
            // A run under a limit ended, a limit changed or a bucket refilled: tasks of any queue may go now.
            state.limitsFreed = false
            for queue in state.queues.keys where !state.touchedQueues.contains(queue) {
                state.touchedQueues.append(queue)
            }
        }
        // Both lists keep their storage from command to command: a copy of one and `removeAll()` on both allocated
        // them anew for every command.
        while !state.touchedQueues.isEmpty || !session.freedQueues.isEmpty {
            var queues: [String] = []
            swap(&queues, &state.touchedQueues)
            if queues.count + session.freedQueues.count <= Session.freedQueueListLimit {
                for queue in session.freedQueues where !queues.contains(queue) { queues.append(queue) }
            } else if !session.freedQueues.isEmpty {
                // Many queues (a cancel that freed many workers' slots): a set keeps this linear.
                var seen = Set(queues)
                for queue in session.freedQueues where seen.insert(queue).inserted { queues.append(queue) }
            }
            session.clearFreed()
            for queue in queues { dispatch(queue, at: now, into: &decision) }
            if state.touchedQueues.isEmpty {
                queues.removeAll(keepingCapacity: true)
                swap(&queues, &state.touchedQueues)
            }
        }
        // Runs that ended during this dispatch were noted by the fold; the queues they free are looked at with the
        // next command, as freed workers' queues are.
    }

    private mutating func dispatch(_ queue: String, at now: Instant, into decision: inout Decision) {
        // The queue's name is hashed once for each table: nothing below adds or removes a queue (the fold of a
        // dispatch queues nothing), so the positions stay valid (and Dictionary traps on one that is not). The
        // queue is looked at first: a worker's freed slot brings its queues here, often with nothing queued.
        guard let rq = state.queues.index(forKey: queue), state.hasEntries(at: rq),
            let wq = session.queueWorkers.index(forKey: queue), session.hasWorkers(at: wq)
        else { return }
        if !state.pausedQueues.isEmpty && state.pausedQueues.contains(queue) { return }
        // Workers after the cursor found with a free slot but nothing they may take (their handlers' lanes are
        // empty or held): the next look starts past them.
        var skip = 0
        // The worker before the task: finding the next task looks its workflow up, and with every slot taken (a
        // turn that queues more than the workers take) that look is wasted. The stale entries it would have dropped
        // from the queue's top are dropped at a later turn just the same.
        while let (worker, wk, step) = session.nextWorker(at: wq, from: skip) {
            let handlers = session.handlers(at: wk)
            let found: (TaskRef, WorkflowIndex, lane: Int)?
            if state.limits.isEmpty {
                found = state.nextReady(at: rq) { handlers?.contains($0.handler) ?? true }
            } else {
                let view = state.limitView
                found = state.nextReady(at: rq) { lane in
                    (handlers?.contains(lane.handler) ?? true)
                        && (lane.limits.isEmpty || view.allow(lane.limits, at: now))
                }
            }
            guard let (ref, wi, lane) = found else {
                // A worker that takes any handler found nothing: nobody else can take anything either.
                if handlers == nil { break }
                skip = step + 1
                continue
            }
            skip = 0
            // The entry goes stale with the dispatch: dropped now, the next look at the queue does not hash its
            // workflow's id again only to find that out.
            state.popReady(at: rq, lane: lane)
            session.advance(wq, past: step)
            let workerName = session.name(at: wk)
            let lease = LeaseID(state.nextLease)
            // Built in place, before the event is recorded: a copy of the task or the workflow held across `record`
            // would make the fold copy every task of it, once per dispatch.
            let (run, heartbeat) = state.withWorkflow(wi) { workflow in
                Self.run(ref.index, of: &workflow, lease: lease, at: now)
            }
            record(
                .taskDispatched(ref.workflow, run.taskID, lease: lease, worker: workerName, kind: run.kind, at: now),
                in: wi,
                task: ref.index,
                into: &decision
            )
            session.leaseOwner[lease] = worker
            session.workers.values[wk].running.insert(lease)
            if let deadline = run.deadline { decision.effects.append(.armTimer(.leaseTimeout(lease), at: deadline)) }
            if let interval = heartbeat {
                session.heartbeatDue[lease] = now + interval
                decision.effects.append(.armTimer(.heartbeat(lease), at: now + interval))
            }
            decision.effects.append(.runTask(worker, run))
        }
        armTokenTimers(rq, at: now, into: &decision)
    }

    /// Arms a timer for each rate-limited key that holds back a lane of the queue at `rq` for want of a token, so
    /// that its tasks go when the bucket refills (a finished run or a new task would not come to wake them).
    private mutating func armTokenTimers(
        _ rq: Dictionary<String, QueueLanes>.Index,
        at now: Instant,
        into decision: inout Decision
    ) {
        guard state.limits.values.contains(where: { $0.perSecond != nil }) else { return }
        for lane in state.queues.values[rq].lanes where !lane.entries.isEmpty {
            for key in lane.key.limits where !session.tokenTimers.contains(key) {
                guard let at = state.nextToken(key, at: now) else { continue }
                session.tokenTimers.insert(key)
                decision.effects.append(.armTimer(.limitToken(key: key), at: at))
            }
        }
    }

    /// The `task.run` for the next run of the task at `position`, and the task's heartbeat interval. Reads the
    /// workflow through `inout` only so that nothing is copied; it changes nothing.
    private static func run(
        _ position: Int,
        of workflow: inout Workflow,
        lease: LeaseID,
        at now: Instant
    ) -> (TaskRun, heartbeat: Duration?) {
        let task = workflow.tasks[position]
        let kind: RunKind = task.state == .waiting ? .poll : task.state == .reverting ? .revert : .attempt
        var handler = task.spec.handler
        var input = task.spec.input
        switch kind {
        case .attempt: break
        case .poll:
            if case .poll(let pollHandler, let pollInput, _, _) = task.awaiting {
                handler = pollHandler
                input = pollInput
            }
        case .revert: handler = task.spec.revert ?? handler
        }
        var run = TaskRun(
            lease: lease,
            workflowID: workflow.id,
            workflowName: workflow.name,
            taskID: task.id,
            handler: handler,
            attempt: kind == .revert ? task.revertAttempts + 1 : max(task.attempts + (kind == .attempt ? 1 : 0), 1),
            input: input,
            deps: task.deps.map { dep in
                (dep, workflow.position(of: dep).flatMap { workflow.tasks[$0].result } ?? .null)
            },
            workflowInput: workflow.input,
            deadline: task.spec.timeout.map { now + $0 },
            kind: kind,
            result: kind == .revert ? task.result ?? .null : nil
        )
        // SPEC §11: a trigger-ruled task learns how its deps failed; a failed task's revert, how it failed.
        if kind == .attempt && task.spec.runIf.waitsForEveryEnd {
            run.depErrors = task.deps.compactMap { dep in
                workflow.position(of: dep).flatMap { position in
                    let d = workflow.tasks[position]
                    return d.state.failedForGood ? d.error.map { (dep, $0) } : nil
                }
            }
        }
        if kind == .revert && task.result == nil { run.error = task.error }
        return (run, task.spec.heartbeat)
    }
}
