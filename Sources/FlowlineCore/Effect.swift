/// What the shell must do once the turn's events are committed.
public enum Effect: Hashable, Sendable {
    /// Answer a request.
    case reply(RequestID, Reply)
    /// Send `task.run` to a worker.
    case runTask(WorkerID, TaskRun)
    /// Send `task.cancel` to a worker for a lease that ended.
    case cancelTask(WorkerID, lease: LeaseID, WorkflowID, TaskID, reason: String)
    /// Fire `.fireTimer(id, armedFor: at)` at the instant (at once when it has passed), waiting on a monotonic clock:
    /// the wait is `at` minus the wall clock when armed, and at most `atMost`. `resume` sets `atMost` to the timer's
    /// own length: across a restart the wall clock is the only shared clock, and one set back must not hold a timer
    /// back by more than that.
    case armTimer(TimerID, at: Instant, atMost: Duration? = nil)
}

/// The answer to a request.
public enum Reply: Hashable, Sendable {
    /// `{}`.
    case ok
    /// `{workflow_id, created}`.
    case submitted(WorkflowID, created: Bool)
    /// `{matched}`: how many waiting tasks a resolution settled.
    case matched(Int)
    /// The workflow record.
    case workflow(Workflow)
    /// `{schedule_id, created}`.
    case scheduleCreated(String, created: Bool)
    /// The schedule record (with the ids of its runs still running).
    case schedule(Schedule, running: [WorkflowID])
    /// A limit: `{key, concurrency, per_s, burst, running}`.
    case limit(key: String, Limit, running: Int)
    /// An error.
    case failure(Rejection)
}

/// A request the coordinator turned down; the codec maps each to its JSON-RPC code.
public enum Rejection: Hashable, Sendable {
    /// -32003: the lease is not the task's current one, or not this connection's.
    case staleLease
    /// -32002: no such workflow.
    case unknownWorkflow(WorkflowID)
    /// -32002: no limit by that key.
    case unknownLimit(String)
    /// -32006: the workflow id is taken by a different document.
    case idInUse(WorkflowID)
    /// -32002: no such schedule.
    case unknownSchedule(String)
    /// -32006: the schedule id is taken by a different definition.
    case scheduleIDInUse(String)
    /// -32602: the request is malformed in a way only the coordinator can see.
    case invalid(SpecError)
}

/// Everything a worker needs to run one attempt (`task.run`).
public struct TaskRun: Hashable, Sendable {
    public var lease: LeaseID
    public var workflowID: WorkflowID
    public var workflowName: String
    public var taskID: TaskID
    public var handler: String
    public var attempt: Int
    public var input: RawJSON
    public var deps: [(TaskID, RawJSON)]
    public var workflowInput: RawJSON
    public var deadline: Instant?
    /// An attempt, a poll (`"poll": true`) or a revert (`"revert": true`, with the task's `result`).
    public var kind: RunKind = .attempt
    /// The reverted task's result, for a revert.
    public var result: RawJSON?
    /// For a task with a trigger rule (`run_if` other than `all_completed`): each failed dep's error, as `deps` maps
    /// results; nil for other tasks.
    public var depErrors: [(TaskID, TaskError)]?
    /// For the revert of a task that failed for good (`revert_on_failure`): its error.
    public var error: TaskError?

    public static func == (a: TaskRun, b: TaskRun) -> Bool {
        a.lease == b.lease && a.workflowID == b.workflowID && a.taskID == b.taskID && a.handler == b.handler
            && a.attempt == b.attempt && a.input == b.input && a.deps.map(\.0) == b.deps.map(\.0)
            && a.deps.map(\.1) == b.deps.map(\.1) && a.workflowInput == b.workflowInput && a.deadline == b.deadline
            && a.workflowName == b.workflowName && a.kind == b.kind && a.result == b.result
            && a.depErrors?.map(\.0) == b.depErrors?.map(\.0) && a.depErrors?.map(\.1) == b.depErrors?.map(\.1)
            && a.error == b.error
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(lease)
    }
}

/// What the journal commits and the shell performs for one command.
public struct Decision: Sendable, Equatable {
    /// Journal these first (one write transaction per loop turn)...
    public var events: [Event] = []
    /// ...and perform these only after that transaction has committed.
    public var effects: [Effect] = []
    public init() {}
}
