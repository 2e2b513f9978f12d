/// SPEC §11's second chances on the coordinator's side: trigger rules after a failure, workflow retries, reruns
/// and the bulk operations.
extension Coordinator {
    /// A task failed for good (after its spawners failed with it). While tasks with a trigger rule wait downstream
    /// of a failure, the workflow goes on for them (`workflowFailing`); otherwise it fails now, with the error of
    /// the task that failed first.
    mutating func failWorkflow(
        _ w: WorkflowID,
        _ t: TaskID,
        error: TaskError,
        at now: Instant,
        into decision: inout Decision
    ) {
        guard let workflow = state.workflows[w], workflow.state == .running else { return }
        if !state.unfinishedDownstreamOfFailures(workflow).isEmpty {
            let open = workflow.tasks.compactMap { task in task.lease.map { ($0, task.id) } }
            record(.workflowFailing(w, t, error: error, at: now), into: &decision)
            cancelClosedLeases(open, of: w, reason: "workflow failed", into: &decision)
            return
        }
        let first = workflow.failedTask.map { ($0, workflow.error ?? error) } ?? (t, error)
        end(
            w,
            with: .workflowFailed(w, first.0, error: first.1, at: now),
            reason: "workflow failed",
            at: now,
            into: &decision
        )
    }

    /// Tells the workers of the leases in `open` that are no longer open that their run ended.
    private mutating func cancelClosedLeases(
        _ open: [(LeaseID, TaskID)],
        of w: WorkflowID,
        reason: String,
        into decision: inout Decision
    ) {
        for (lease, task) in open where state.leases[lease] == nil {
            if let owner = session.release(lease) {
                decision.effects.append(.cancelTask(owner, lease: lease, w, task, reason: reason))
            }
        }
    }

    /// A workflow that just ended `failed` with attempts left under its `retry` (and a retryable error) waits,
    /// `running`, for its backoff, then runs again from the start.
    mutating func retryIfDue(_ w: WorkflowID, at now: Instant, into decision: inout Decision) {
        guard let workflow = state.workflows[w], workflow.state == .failed, let retry = workflow.retry,
            let error = workflow.error,
            let retryAt = retry.retryAt(afterAttempt: workflow.attempt, failingWith: error, at: now)
        else { return }
        record(.workflowRetrying(w, retryAt: retryAt, at: now), into: &decision)
        decision.effects.append(.armTimer(.workflowRetry(w), at: retryAt))
    }

    /// Records a workflow's restart or rerun and arms its timeout, which counts from now.
    mutating func restart(_ w: WorkflowID, with event: Event, at now: Instant, into decision: inout Decision) {
        record(event, into: &decision)
        guard let workflow = state.workflows[w] else { return }
        if let deadline = workflow.timeoutDeadline {
            decision.effects.append(.armTimer(.workflowTimeout(w), at: deadline))
        }
        // A rerun whose put-back tasks all skipped at once (trigger rules) may have nothing left to run.
        if workflow.unfinished == 0 && workflow.state == .running {
            record(.workflowCompleted(w, at: now), into: &decision)
            answerWaiters(of: w, into: &decision)
        }
    }

    mutating func rerun(
        _ w: WorkflowID,
        from: [TaskID],
        request: RequestID,
        at now: Instant,
        into decision: inout Decision
    ) {
        guard let workflow = state.workflows[w] else {
            reply(request, .failure(.unknownWorkflow(w)), into: &decision)
            return
        }
        guard workflow.state.isTerminal else {
            let error = SpecError(
                path: "workflow_id",
                message: "the workflow has not ended (\(workflow.state.rawValue))"
            )
            reply(request, .failure(.invalid(error)), into: &decision)
            return
        }
        if let i = from.firstIndex(where: { workflow.position(of: $0) == nil }) {
            let error = SpecError(path: "from[\(i)]", message: "names no task of the workflow: '\(from[i])'")
            reply(request, .failure(.invalid(error)), into: &decision)
            return
        }
        guard state.rerunPlan(w, from: from) != nil else {
            let error = SpecError(path: "from", message: "every task completed: name the tasks to run again")
            reply(request, .failure(.invalid(error)), into: &decision)
            return
        }
        restart(w, with: .workflowRerun(w, from: from, at: now), at: now, into: &decision)
        if let record = state.workflows[w] { reply(request, .workflow(record), into: &decision) }
    }

    mutating func cancelMany(
        _ filter: WorkflowFilter,
        request: RequestID,
        at now: Instant,
        into decision: inout Decision
    ) {
        var matched = 0
        for w in picked(filter, where: { $0.state == .running }) {
            end(
                w,
                with: .workflowCancelled(w, reason: "cancelled", revert: false, at: now),
                reason: "workflow cancelled",
                at: now,
                into: &decision
            )
            matched += 1
        }
        reply(request, .matched(matched), into: &decision)
    }

    mutating func rerunMany(
        _ filter: WorkflowFilter,
        request: RequestID,
        at now: Instant,
        into decision: inout Decision
    ) {
        var matched = 0
        for w in picked(filter, where: { $0.state.isTerminal }) where state.rerunPlan(w, from: []) != nil {
            restart(w, with: .workflowRerun(w, from: [], at: now), at: now, into: &decision)
            matched += 1
        }
        reply(request, .matched(matched), into: &decision)
    }

    /// The ids of the workflows `filter` matches that `condition` also holds for, in submission order.
    private mutating func picked(
        _ filter: WorkflowFilter,
        where condition: (borrowing Workflow) -> Bool
    ) -> [WorkflowID] {
        state.workflows(where: { filter.matches($0) && condition($0) }).map(\.id)
    }
}

extension Coordinator {
    /// `task.result {lease, task_id}`: the result of a completed task of the workflow whose task holds `lease`
    /// (Function Flow's `job.get_task_result`: any task's, not only a dep's). The lease must be open and the
    /// caller's; a task of another workflow cannot be read this way.
    public func taskResult(lease: LeaseID, from worker: WorkerID, task: TaskID) -> (RawJSON?, Rejection?) {
        guard let ref = state.leases[lease], session.leaseOwner[lease] == worker else { return (nil, .staleLease) }
        guard let record = state.workflows[ref.workflow]?.task(task) else {
            return (nil, .invalid(SpecError(path: "task_id", message: "names no task of the workflow")))
        }
        guard record.state == .completed, let result = record.result else {
            let message = "the task has not completed (\(record.state.rawValue))"
            return (nil, .invalid(SpecError(path: "task_id", message: message)))
        }
        return (result, nil)
    }
}
