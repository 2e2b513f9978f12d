/// What arrives at the coordinator: a request from a connection, a connection's coming and going, or a timer.
public enum Command: Sendable {
    /// Start a workflow (the document is validated).
    case submit(WorkflowSpec, request: RequestID)
    /// Answer with the record once the workflow is terminal, or at the timeout.
    case wait(WorkflowID, timeout: Duration?, request: RequestID)
    /// Cancel a workflow.
    case cancel(WorkflowID, reason: String, revert: Bool, request: RequestID)
    /// Run an ended workflow again (`workflow.rerun`): its unfinished work, plus `from` and their downstream.
    case rerun(WorkflowID, from: [TaskID], request: RequestID)
    /// Cancel every running workflow the filter matches (`workflow.cancel_many`).
    case cancelMany(WorkflowFilter, request: RequestID)
    /// Rerun every ended workflow the filter matches that has something to run again (`workflow.rerun_many`).
    case rerunMany(WorkflowFilter, request: RequestID)
    /// A connection said hello as a worker.
    /// `handlers`, when given, are the only handlers the worker runs (SPEC §8).
    case connectWorker(WorkerID, name: String, queues: [String], concurrency: Int, handlers: [String]? = nil)
    /// A connection closed: a worker's leases end. (A client's pending waits are answered into the void when
    /// their workflow ends or their timeout passes; the shell drops answers for closed connections.)
    case disconnect(WorkerID)
    /// A worker finished a run; for a poll, `poll` is the decoded answer (nil when the result was not one).
    case complete(LeaseID, result: RawJSON, poll: PollAnswer?, from: WorkerID, request: RequestID?)
    /// A worker's attempt handed back a future to wait on.
    case await(LeaseID, Future, from: WorkerID, request: RequestID?)
    /// A worker's attempt adds tasks to the workflow and completes with `output`'s result.
    case spawn(LeaseID, tasks: [TaskSpec], output: String, from: WorkerID, request: RequestID?)
    /// A worker hands back a run it will not start; the attempt is not used up and the task is queued again.
    case release(LeaseID, from: WorkerID, request: RequestID?)
    /// A worker wants no more runs (it is stopping); its open leases go on.
    case quiet(WorkerID)
    /// A client settles a key future; with `resolutionID`, once only (SPEC §8: a re-send answers as the first did).
    case resolve(key: String, FutureOutcome, resolutionID: String? = nil, request: RequestID)
    /// A worker's attempt failed.
    case fail(LeaseID, error: TaskError, from: WorkerID, request: RequestID?)
    /// A worker is still on it, perhaps with progress.
    case heartbeat(LeaseID, progress: RawJSON?, from: WorkerID, request: RequestID?)
    /// A timer the coordinator armed came due. `armedFor` is the deadline it was armed for (`Effect.armTimer`'s
    /// `at`): the shell waits on a monotonic clock, so the wall clock `now` may be short of that deadline (it jumped
    /// back) or long past it (it jumped forward), and the coordinator then only checks that the timer is still
    /// current, its deadline unchanged. Without it (tests that drive time by hand) the deadline must have passed.
    case fireTimer(TimerID, armedFor: Instant? = nil)
    /// Drop workflows that finished before `finishedBefore` (the retention's edge), at most `limit` of them.
    case compact(finishedBefore: Instant, limit: Int)
    /// `workflow.pause` (`paused`) or `workflow.resume`.
    case pauseWorkflow(WorkflowID, paused: Bool, request: RequestID)
    /// `queue.pause` (`paused`) or `queue.resume`.
    case pauseQueue(String, paused: Bool, request: RequestID)
    /// `limit.set`.
    case setLimit(key: String, Limit, request: RequestID)
    /// `limit.delete`.
    case deleteLimit(key: String, request: RequestID)
    /// `schedule.create`: the zone's rules must be in `Coordinator.zones` (the shell loads them first).
    case createSchedule(ScheduleSpec, request: RequestID)
    /// `schedule.delete`, `schedule.pause`, `schedule.unpause`, `schedule.trigger`.
    case schedule(ScheduleAction, id: String, request: RequestID)
}

/// What a client asks of one schedule.
public enum ScheduleAction: Hashable, Sendable {
    case delete, pause, unpause, trigger
}

/// A timer the coordinator asks the shell to arm. Stale firings are harmless: the coordinator checks.
public enum TimerID: Hashable, Sendable {
    /// The attempt's `timeout_s`.
    case leaseTimeout(LeaseID)
    /// The attempt's `heartbeat_s` since its last heartbeat.
    case heartbeat(LeaseID)
    /// A task's backoff before its next attempt.
    case retry(WorkflowID, TaskID)
    /// The workflow's own `timeout_s`.
    case workflowTimeout(WorkflowID)
    /// A `workflow.wait` with a timeout.
    case waitTimeout(RequestID)
    /// The `timeout_s` of a task's `n`-th await.
    case awaitTimeout(WorkflowID, TaskID, n: Int)
    /// A sleep's end or a poll's next run, in the task's `n`-th await.
    case wake(WorkflowID, TaskID, n: Int)
    /// A kept resolution's retention.
    case futureExpiry(key: String)
    /// A remembered resolution id's retention.
    case resolutionExpiry(key: String, id: String)
    /// A workflow's `start_at`.
    case start(WorkflowID)
    /// A schedule's next fire.
    case schedule(String)
    /// The backoff of a failed workflow before it runs again.
    case workflowRetry(WorkflowID)
    /// A rate-limited key's bucket holds a whole token again.
    case limitToken(key: String)
}
