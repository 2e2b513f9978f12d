extension Coordinator {
    /// Hands queued runs of every queue that changed to workers with free slots.
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
            // The name only: a WorkerInfo copy alive across the insert below would make it copy `running`.
            guard let worker = session.nextWorker(for: queue), let workerName = session.workers[worker]?.name,
                let task = state.task(ref)
            else { return }
            let kind: RunKind = task.state == .waiting ? .poll : task.state == .reverting ? .revert : .attempt
            let lease = LeaseID(state.nextLease)
            let deadline = task.spec.timeout.map { now + $0 }
            // Built before the event is recorded: a copy of the workflow held across `record` would make the fold
            // copy every task of it, once per dispatch.
            guard
                let run = state.workflows[ref.workflow].map({
                    run(task, of: $0, lease: lease, kind: kind, deadline: deadline)
                })
            else { return }
            record(
                .taskDispatched(ref.workflow, task.id, lease: lease, worker: workerName, kind: kind, at: now),
                into: &decision
            )
            session.leaseOwner[lease] = worker
            session.workers[worker]?.running.insert(lease)
            if let deadline { decision.effects.append(.armTimer(.leaseTimeout(lease), at: deadline)) }
            if let interval = task.spec.heartbeat {
                session.heartbeatDue[lease] = now + interval
                decision.effects.append(.armTimer(.heartbeat(lease), at: now + interval))
            }
            decision.effects.append(.runTask(worker, run))
        }
    }

    /// The `task.run` for one run of a task.
    private func run(
        _ task: TaskRecord,
        of workflow: Workflow,
        lease: LeaseID,
        kind: RunKind,
        deadline: Instant?
    ) -> TaskRun {
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
        return TaskRun(
            lease: lease,
            workflowID: workflow.id,
            workflowName: workflow.name,
            taskID: task.id,
            handler: handler,
            attempt: kind == .revert ? task.revertAttempts + 1 : max(task.attempts + (kind == .attempt ? 1 : 0), 1),
            input: input,
            deps: task.deps.map { ($0, workflow.task($0)?.result ?? .null) },
            workflowInput: workflow.input,
            deadline: deadline,
            kind: kind,
            result: kind == .revert ? task.result ?? .null : nil
        )
    }
}
