/// A state transition, as journaled. Past tense; applying the same events always gives the same state.
public enum Event: Hashable, Sendable {
    /// A workflow was accepted; `spec.id` is the id it got.
    case workflowSubmitted(WorkflowSpec, at: Instant)
    /// An attempt of a task was leased to a worker (by name; connections do not survive restarts).
    case taskDispatched(WorkflowID, TaskID, lease: LeaseID, worker: String, at: Instant)
    /// A task completed with a result; dependents whose deps are now all complete became ready.
    case taskCompleted(WorkflowID, TaskID, result: RawJSON, at: Instant)
    /// An attempt failed. With `retryAt` the task waits to be tried again; without, it failed for good.
    case taskAttemptFailed(WorkflowID, TaskID, error: TaskError, retryAt: Instant?, at: Instant)
    /// A task's backoff passed and it went back into its queue.
    case taskRequeued(WorkflowID, TaskID, at: Instant)
    /// A lease open when the daemon stopped was given back on restart, without using up the attempt.
    case leaseReleased(WorkflowID, TaskID, at: Instant)
    /// A worker reported progress on a running task.
    case taskProgressed(WorkflowID, TaskID, progress: RawJSON, at: Instant)
    /// Every task completed.
    case workflowCompleted(WorkflowID, at: Instant)
    /// A task failed for good: its downstream tasks were skipped and every other unfinished task cancelled.
    case workflowFailed(WorkflowID, TaskID, error: TaskError, at: Instant)
    /// A client cancelled the workflow; every unfinished task was cancelled.
    case workflowCancelled(WorkflowID, reason: String, at: Instant)
    /// The workflow's own timeout passed; every unfinished task was cancelled.
    case workflowTimedOut(WorkflowID, at: Instant)

    /// The workflow the event belongs to (the journal indexes by it).
    public var workflowID: WorkflowID {
        switch self {
        case .workflowSubmitted(let spec, _): spec.id ?? WorkflowID("")
        case .taskDispatched(let w, _, _, _, _), .taskCompleted(let w, _, _, _), .taskAttemptFailed(let w, _, _, _, _),
            .taskRequeued(let w, _, _), .leaseReleased(let w, _, _), .taskProgressed(let w, _, _, _),
            .workflowCompleted(let w, _), .workflowFailed(let w, _, _, _), .workflowCancelled(let w, _, _),
            .workflowTimedOut(let w, _):
            w
        }
    }

    /// When it happened.
    public var time: Instant {
        switch self {
        case .workflowSubmitted(_, let t), .taskDispatched(_, _, _, _, let t), .taskCompleted(_, _, _, let t),
            .taskAttemptFailed(_, _, _, _, let t), .taskRequeued(_, _, let t), .leaseReleased(_, _, let t),
            .taskProgressed(_, _, _, let t), .workflowCompleted(_, let t), .workflowFailed(_, _, _, let t),
            .workflowCancelled(_, _, let t), .workflowTimedOut(_, let t):
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
        case .workflowCompleted: "workflow_completed"
        case .workflowFailed: "workflow_failed"
        case .workflowCancelled: "workflow_cancelled"
        case .workflowTimedOut: "workflow_timed_out"
        }
    }
}
