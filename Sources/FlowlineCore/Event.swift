/// A state transition, as journaled. Past tense; applying the same events always gives the same state.
public enum Event: Hashable, Sendable {
    /// A workflow was accepted; `spec.id` is the id it got.
    case workflowSubmitted(WorkflowSpec, at: Instant)
    /// A run of a task was leased to a worker (by name; connections do not survive restarts).
    case taskDispatched(WorkflowID, TaskID, lease: LeaseID, worker: String, kind: RunKind, at: Instant)
    /// A task completed with a result; dependents whose deps are now all complete became ready.
    case taskCompleted(WorkflowID, TaskID, result: RawJSON, at: Instant)
    /// An attempt failed. With `retryAt` the task waits to be tried again; without, it failed for good.
    case taskAttemptFailed(WorkflowID, TaskID, error: TaskError, retryAt: Instant?, at: Instant)
    /// A task's backoff (or a poll's interval) passed and it went back into its queue.
    case taskRequeued(WorkflowID, TaskID, at: Instant)
    /// A lease open when the daemon stopped was given back on restart, without using up the attempt.
    case leaseReleased(WorkflowID, TaskID, at: Instant)
    /// A worker reported progress on a running task.
    case taskProgressed(WorkflowID, TaskID, progress: RawJSON, at: Instant)
    /// A running task's attempt handed back a future; the task waits for it.
    case taskAwaiting(WorkflowID, TaskID, future: Future, at: Instant)
    /// A poll answered `done: false`; the next one is due after the poll's interval.
    case pollAnswered(WorkflowID, TaskID, at: Instant)
    /// A running task added tasks under its id; it completes with the result of `output`.
    case tasksSpawned(WorkflowID, TaskID, tasks: [TaskSpec], output: String, at: Instant)
    /// A resolution found no task waiting on its key and is kept for a later await.
    case futureKept(key: String, FutureOutcome, at: Instant)
    /// A kept resolution settled an await and is used up.
    case futureUsed(key: String, at: Instant)
    /// A kept resolution outlived the retention and is dropped.
    case futureExpired(key: String, at: Instant)
    /// A resolution sent with a `resolution_id` was applied and answered `matched`; a re-send of that id to that
    /// key changes nothing and answers the same, until the retention passes.
    case resolutionApplied(key: String, id: String, matched: Int, at: Instant)
    /// A remembered resolution id outlived the retention and is forgotten.
    case resolutionExpired(key: String, id: String, at: Instant)
    /// The next completed task's revert handler is due to run.
    case revertStarted(WorkflowID, TaskID, at: Instant)
    /// A revert handler succeeded.
    case taskReverted(WorkflowID, TaskID, at: Instant)
    /// A revert run failed: retried at `retryAt`, or for good without it.
    case revertFailed(WorkflowID, TaskID, error: TaskError, retryAt: Instant?, at: Instant)
    /// Every revert ran; the workflow took the end state it was reverting towards.
    case workflowReverted(WorkflowID, at: Instant)
    /// Every task completed.
    case workflowCompleted(WorkflowID, at: Instant)
    /// A task failed for good: its downstream tasks were skipped, every other unfinished task cancelled, and the
    /// completed tasks with a revert handler queued for reverting.
    case workflowFailed(WorkflowID, TaskID, error: TaskError, at: Instant)
    /// A client cancelled the workflow; every unfinished task was cancelled (and, with `revert`, reverts queued).
    case workflowCancelled(WorkflowID, reason: String, revert: Bool, at: Instant)
    /// The workflow's own timeout passed; every unfinished task was cancelled.
    case workflowTimedOut(WorkflowID, at: Instant)
    /// Finished workflows older than the retention were dropped, with their journal records.
    case workflowsCompacted([WorkflowID], at: Instant)
    /// A schedule was created; `nextFire` is its first fire, computed from the zone's rules when it was created.
    case scheduleCreated(ScheduleSpec, nextFire: Instant?, at: Instant)
    /// A schedule was deleted; its runs go on.
    case scheduleDeleted(String, at: Instant)
    /// A schedule was paused (`nextFire` nil) or unpaused (`nextFire` the first fire after that moment).
    case schedulePaused(String, paused: Bool, nextFire: Instant?, at: Instant)
    /// The fire scheduled for `scheduled` was handled: `run` started, or none (skipped by `overlap` or `catchup`);
    /// the schedule's next fire is then `nextFire`. A trigger leaves `nextFire` as it was.
    case scheduleFired(String, scheduled: Instant, run: WorkflowID?, nextFire: Instant?, at: Instant)
    /// A workflow held until its `start_at` started: its free tasks became ready.
    case workflowStarted(WorkflowID, at: Instant)
    /// A task failed for good while tasks downstream of it with a trigger rule (`all_done`, `any_failed`) still
    /// wait: its other downstream tasks were skipped, the unfinished tasks those do not need cancelled, and the
    /// workflow goes on until they end, then fails with this task's error (SPEC §11).
    case workflowFailing(WorkflowID, TaskID, error: TaskError, at: Instant)
    /// A failed workflow with attempts left under its `retry` waits, `running`, to run again at `retryAt`.
    case workflowRetrying(WorkflowID, retryAt: Instant, at: Instant)
    /// A workflow's retry: every task back to the start (spawned ones dropped), the next attempt begins.
    case workflowRestarted(WorkflowID, at: Instant)
    /// `workflow.rerun`: the tasks that did not complete (or whose work was undone), those named in `from` and
    /// everything downstream of them go back to run; the rest keep their results.
    case workflowRerun(WorkflowID, from: [TaskID], at: Instant)
    /// `workflow.pause`: none of the workflow's tasks is dispatched until it is resumed.
    case workflowPaused(WorkflowID, at: Instant)
    /// `workflow.resume`.
    case workflowResumed(WorkflowID, at: Instant)
    /// `queue.pause`: nothing of the queue is dispatched until it is resumed.
    case queuePaused(String, at: Instant)
    /// `queue.resume`.
    case queueResumed(String, at: Instant)
    /// `limit.set`: the key's limit is now this.
    case limitSet(key: String, Limit, at: Instant)
    /// `limit.delete`: the key is unlimited again.
    case limitDeleted(key: String, at: Instant)

    /// The workflow the event belongs to (the journal indexes by it); future events belong to none.
    public var workflowID: WorkflowID {
        switch self {
        case .workflowSubmitted(let spec, _): spec.id ?? WorkflowID("")
        case .taskDispatched(let w, _, _, _, _, _), .taskCompleted(let w, _, _, _),
            .taskAttemptFailed(let w, _, _, _, _),
            .taskRequeued(let w, _, _), .leaseReleased(let w, _, _), .taskProgressed(let w, _, _, _),
            .taskAwaiting(let w, _, _, _), .pollAnswered(let w, _, _), .tasksSpawned(let w, _, _, _, _),
            .revertStarted(let w, _, _), .taskReverted(let w, _, _), .revertFailed(let w, _, _, _, _),
            .workflowReverted(let w, _), .workflowCompleted(let w, _), .workflowFailed(let w, _, _, _),
            .workflowCancelled(let w, _, _, _), .workflowTimedOut(let w, _), .workflowStarted(let w, _),
            .workflowFailing(let w, _, _, _), .workflowRetrying(let w, _, _), .workflowRestarted(let w, _),
            .workflowRerun(let w, _, _), .workflowPaused(let w, _), .workflowResumed(let w, _):
            w
        case .futureKept, .futureUsed, .futureExpired, .resolutionApplied, .resolutionExpired, .workflowsCompacted,
            .scheduleCreated, .scheduleDeleted, .schedulePaused, .scheduleFired, .queuePaused, .queueResumed,
            .limitSet, .limitDeleted:
            WorkflowID("")
        }
    }

    /// When it happened.
    public var time: Instant {
        switch self {
        case .workflowSubmitted(_, let t), .taskDispatched(_, _, _, _, _, let t), .taskCompleted(_, _, _, let t),
            .taskAttemptFailed(_, _, _, _, let t), .taskRequeued(_, _, let t), .leaseReleased(_, _, let t),
            .taskProgressed(_, _, _, let t), .taskAwaiting(_, _, _, let t), .pollAnswered(_, _, let t),
            .tasksSpawned(_, _, _, _, let t), .futureKept(_, _, let t), .futureUsed(_, let t), .futureExpired(_, let t),
            .resolutionApplied(_, _, _, let t), .resolutionExpired(_, _, let t), .revertStarted(_, _, let t),
            .taskReverted(_, _, let t), .revertFailed(_, _, _, _, let t),
            .workflowReverted(_, let t), .workflowCompleted(_, let t), .workflowFailed(_, _, _, let t),
            .workflowCancelled(_, _, _, let t), .workflowTimedOut(_, let t), .workflowsCompacted(_, let t),
            .scheduleCreated(_, _, let t), .scheduleDeleted(_, let t), .schedulePaused(_, _, _, let t),
            .scheduleFired(_, _, _, _, let t), .workflowStarted(_, let t),
            .workflowFailing(_, _, _, let t), .workflowRetrying(_, _, let t), .workflowRestarted(_, let t),
            .workflowRerun(_, _, let t),
            .workflowPaused(_, let t), .workflowResumed(_, let t), .queuePaused(_, let t), .queueResumed(_, let t),
            .limitSet(_, _, let t), .limitDeleted(_, let t):
            t
        }
    }

    /// The wire name of the event's type, as `workflow.history` shows it.
    public var typeName: String {
        switch self {
        case .workflowSubmitted: "workflow_submitted"
        case .taskDispatched: "task_dispatched"
        case .taskCompleted: "task_completed"
        case .taskAttemptFailed: "task_attempt_failed"
        case .taskRequeued: "task_requeued"
        case .leaseReleased: "lease_released"
        case .taskProgressed: "task_progressed"
        case .taskAwaiting: "task_awaiting"
        case .pollAnswered: "poll_answered"
        case .tasksSpawned: "tasks_spawned"
        case .futureKept: "future_kept"
        case .futureUsed: "future_used"
        case .futureExpired: "future_expired"
        case .resolutionApplied: "resolution_applied"
        case .resolutionExpired: "resolution_expired"
        case .revertStarted: "revert_started"
        case .taskReverted: "task_reverted"
        case .revertFailed: "revert_failed"
        case .workflowReverted: "workflow_reverted"
        case .workflowCompleted: "workflow_completed"
        case .workflowFailed: "workflow_failed"
        case .workflowCancelled: "workflow_cancelled"
        case .workflowTimedOut: "workflow_timed_out"
        case .workflowsCompacted: "workflows_compacted"
        case .scheduleCreated: "schedule_created"
        case .scheduleDeleted: "schedule_deleted"
        case .schedulePaused: "schedule_paused"
        case .scheduleFired: "schedule_fired"
        case .workflowStarted: "workflow_started"
        case .workflowFailing: "workflow_failing"
        case .workflowRetrying: "workflow_retrying"
        case .workflowRestarted: "workflow_restarted"
        case .workflowRerun: "workflow_rerun"
        case .workflowPaused: "workflow_paused"
        case .workflowResumed: "workflow_resumed"
        case .queuePaused: "queue_paused"
        case .queueResumed: "queue_resumed"
        case .limitSet: "limit_set"
        case .limitDeleted: "limit_deleted"
        }
    }
}
