/// Where a task stands (SPEC §2 "Task states"). Wire names are the snake_case of these.
public enum TaskState: String, Hashable, Sendable, CaseIterable {
    /// Some dep has not completed.
    case blocked
    /// Queued for a worker, or between attempts with `retry_at` set.
    case ready
    /// Leased to a worker.
    case running
    /// Awaiting a future or the tasks it spawned.
    case waiting
    /// Done, with a result.
    case completed
    /// Failed for good.
    case failed
    /// Its last attempt timed out.
    case timedOut = "timed_out"
    /// Its workflow ended before it finished.
    case cancelled
    /// An upstream task failed.
    case skipped
    /// Its revert handler runs.
    case reverting
    /// Its revert handler succeeded.
    case reverted
    /// Its revert handler failed for good.
    case revertFailed = "revert_failed"

    /// True once nothing more will happen to the task in a running workflow.
    public var isFinished: Bool {
        switch self {
        case .blocked, .ready, .running, .waiting: false
        case .completed, .failed, .timedOut, .cancelled, .skipped, .reverting, .reverted, .revertFailed: true
        }
    }
}

/// Where a workflow stands (SPEC §2 "Workflow states").
public enum WorkflowState: String, Hashable, Sendable, CaseIterable {
    /// Some task has not finished.
    case running
    /// Failed or cancelled, and running the reverts of its completed tasks.
    case reverting
    /// Every task completed.
    case completed
    /// A task failed for good.
    case failed
    /// Cancelled by a client.
    case cancelled
    /// Its own `timeout_s` passed.
    case timedOut = "timed_out"

    /// True for the end states: `workflow.wait` answers then.
    public var isTerminal: Bool {
        switch self {
        case .running, .reverting: false
        case .completed, .failed, .cancelled, .timedOut: true
        }
    }
}
