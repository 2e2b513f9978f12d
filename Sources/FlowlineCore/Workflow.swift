/// One workflow as the coordinator knows it: the durable part of the state, rebuilt by replay.
public struct Workflow: Hashable, Sendable {
    public var id: WorkflowID
    public var name: String
    public var input: RawJSON
    public var timeout: Duration?
    /// The document's `metadata` pairs, in the order written.
    public var metadata: [MetadataEntry] = []
    public var state: WorkflowState = .running
    public var createdAt: Instant
    public var finishedAt: Instant?
    public var error: TaskError?
    public var reverted = false
    public var revertFailures: [TaskID] = []
    /// In the order they were added; spawned tasks come after their parent.
    public var tasks: [TaskRecord] = []
    /// Position of each task in `tasks`, kept only for workflows of more than `Workflow.smallSize` tasks: a short
    /// list is searched faster than a string is hashed.
    public private(set) var index: [TaskID: Int] = [:]
    /// Tasks not yet finished; the workflow completes when this reaches zero.
    public var unfinished = 0
    /// While reverting: the state the workflow ends in once its reverts are done.
    public var endState: WorkflowState?
    /// While reverting: positions of the tasks still to revert, next first.
    public var revertQueue: [Int] = []
    /// The workflow's place in submission order (1 for the first ever submitted).
    public var number: UInt64 = 0
    /// The document's `start_at`: nothing runs before it, and `timeout` counts from it.
    public var startAt: Instant?
    /// True until the `start_at` passes (then `.workflowStarted` frees the tasks).
    public var held = false

    /// When the workflow's `timeout_s` starts counting: the start of its current run after a rerun or a workflow
    /// retry, else its `start_at` if later than its submission.
    public var timeoutBase: Instant { runningSince ?? startAt.map { max($0, createdAt) } ?? createdAt }
    /// The document's `retry` (SPEC §11): nil runs the workflow once.
    public var retry: RetryPolicy?
    /// Which run of the whole workflow this is: 1, then one more at each workflow retry; a rerun starts again at 1.
    public var attempt = 1
    /// While the workflow waits to run again after a failure (a workflow retry's backoff): when it does.
    public var retryAt: Instant?
    /// Since when the current run counts (its `timeout_s` too): `createdAt`, or the last rerun or workflow retry.
    public var runningSince: Instant?
    /// While tasks with a trigger rule still run after a task failed for good: that task (the workflow then ends
    /// `failed` with `error`).
    public var failedTask: TaskID?
    /// True between `workflow.pause` and `workflow.resume`: none of its tasks is dispatched.
    public var paused = false

    public init(id: WorkflowID, spec: borrowing WorkflowSpec, at now: Instant) {
        self.id = id
        self.name = spec.name
        self.input = spec.input
        self.timeout = spec.timeout
        self.metadata = spec.metadata
        self.retry = spec.retry
        self.createdAt = now
        self.startAt = spec.startAt
    }

    /// When the workflow's own `timeout_s` passes, if it has one.
    public var timeoutDeadline: Instant? { timeout.map { timeoutBase + $0 } }

    /// Workflows of at most this many tasks are searched instead of indexed.
    static let smallSize = 8

    /// Looks a task up by its full id.
    public func task(_ id: TaskID) -> TaskRecord? { position(of: id).map { tasks[$0] } }

    /// The position of a task in `tasks`.
    public func position(of id: TaskID) -> Int? {
        if tasks.count <= Self.smallSize { return tasks.firstIndex { $0.id == id } }
        return index[id]
    }

    /// Adds a task at the end, keeping the index once the workflow is past `smallSize`.
    /// `consuming`, so that the record moves into `tasks` instead of being copied (a retain per field) and the
    /// caller's copy destroyed.
    public mutating func append(_ task: consuming TaskRecord) {
        tasks.append(consume task)
        if tasks.count == Self.smallSize + 1 {
            reindex()
        } else if tasks.count > Self.smallSize {
            index[tasks[tasks.count - 1].id] = tasks.count - 1
        }
    }

    /// Rebuilds the index from `tasks` (after restoring a snapshot).
    public mutating func reindex() {
        index = [:]
        guard tasks.count > Self.smallSize else { return }
        index.reserveCapacity(tasks.count)
        for (position, task) in tasks.enumerated() { index[task.id] = position }
    }

    /// What a completed workflow returns: each task no other task depends on, with its result.
    public var sinkResults: [(TaskID, RawJSON)] {
        tasks.filter { $0.dependents.isEmpty && $0.parent == nil }.map { ($0.id, $0.result ?? .null) }
    }
}

/// One task of a workflow and everything that happened to it so far.
public struct TaskRecord: Hashable, Sendable {
    public var id: TaskID
    public var spec: TaskSpec
    /// Full ids of the tasks this one waits for.
    public var deps: [TaskID]
    /// Positions (in the workflow's `tasks`) of the tasks that wait for this one.
    public var dependents: [Int] = []
    /// The task that spawned this one, if any.
    public var parent: TaskID?
    public var state: TaskState
    /// Deps not yet completed.
    public var pendingDeps: Int
    /// Attempts dispatched so far (polls and reverts excluded).
    public var attempts = 0
    public var worker: String?
    public var scheduledAt: Instant?
    public var startedAt: Instant?
    public var finishedAt: Instant?
    public var retryAt: Instant?
    public var progress: RawJSON?
    public var result: RawJSON?
    public var error: TaskError?
    /// The open lease, while running.
    public var lease: LeaseID?
    /// The ticket of this task's valid entry in its ready queue; older entries are stale.
    public var queueTicket: UInt64 = 0
    /// True while the task has a valid entry in its queue (for an attempt, a poll or a revert).
    public var isQueued = false
    /// What the task waits for, while `waiting` on a future.
    public var awaiting: Future?
    /// Counts the task's awaits, so that a timer armed for an earlier await is recognised as stale.
    public var awaitNumber = 0
    /// When the current await times out.
    public var awaitDeadline: Instant?
    /// When a sleep ends or the next poll is due.
    public var wakeAt: Instant?
    /// While waiting on tasks it spawned: the full id of the one whose result it takes (kept when the task fails
    /// with it, so that the output's downstream is skipped too).
    public var spawnOutput: TaskID?
    /// The order in which tasks completed, for reverting in reverse.
    public var completionOrder: UInt64 = 0
    /// Revert runs dispatched so far.
    public var revertAttempts = 0
    /// `attempts` when the task was last put back to run (a rerun, a workflow retry): the retry policy counts the
    /// attempts after it, so each run of the task gets `max_attempts` afresh while attempt numbers go on counting.
    public var attemptBase = 0

    /// The attempts of the current budget.
    public var budgetAttempts: Int { attempts - attemptBase }
    /// What holds the queued task back, set only on the copies records are written from (`Coordinator.record`);
    /// nil in the state.
    public var waitingFor: String?
}

extension TaskRecord {
    /// A new task, blocked on `deps`; snapshots restore the other fields after this.
    ///
    /// Declared here, outside the type, so that the compiler still makes the memberwise init, which this calls:
    /// an init that assigns the fields one by one (Swift 6.3) built the record aside, then copied it out (a
    /// retain per field) and destroyed the original (a release per field), which replay paid for every task.
    public init(id: TaskID, spec: TaskSpec, deps: [TaskID], parent: TaskID?) {
        self.init(id: id, spec: spec, deps: deps, parent: parent, state: .blocked, pendingDeps: deps.count)
    }
}

// MARK: - Changes the fold makes in place

extension Workflow {
    /// A submitted workflow with its tasks added and linked, before the fold numbers it and queues its free tasks:
    /// the part of a submission that depends on the spec alone.
    init(submitted spec: borrowing WorkflowSpec, id: WorkflowID, at: Instant) {
        self.init(id: id, spec: spec, at: at)
        _ = addTasks(spec.tasks, parent: nil)
    }

    /// Appends tasks (prefixed with `parent/` when spawned) and links their deps; returns their positions. The
    /// caller makes ready those with no pending deps.
    mutating func addTasks(_ specs: [TaskSpec], parent: TaskID?) -> Range<Int> {
        let first = tasks.count
        tasks.reserveCapacity(first + specs.count)
        if let parent {
            let local = Set(specs.map(\.id))
            for spec in specs {
                let deps = spec.deps.map { local.contains($0) ? TaskID("\(parent.rawValue)/\($0)") : TaskID($0) }
                append(TaskRecord(id: TaskID("\(parent.rawValue)/\(spec.id)"), spec: spec, deps: deps, parent: parent))
            }
        } else {
            for spec in specs {
                append(TaskRecord(id: TaskID(spec.id), spec: spec, deps: spec.deps.map(TaskID.init), parent: nil))
            }
        }
        unfinished += specs.count
        for position in first..<tasks.count {
            for dep in tasks[position].deps {
                guard let d = self.position(of: dep) else { continue }
                tasks[d].dependents.append(position)
                // A trigger-ruled task (SPEC §11) counts deps that ended any way; the state is read first, as
                // nearly every dep of a new task has not ended.
                if tasks[d].state.isFinished
                    && (tasks[d].state == .completed || tasks[position].spec.runIf.waitsForEveryEnd)
                {
                    tasks[position].pendingDeps -= 1
                }
            }
        }
        return first..<tasks.count
    }
}

extension TaskRecord {
    /// The interval between polls, while the task awaits a poll.
    var pollInterval: Duration? {
        guard case .poll(_, _, let interval, _) = awaiting else { return nil }
        return interval
    }

    mutating func makeReady(at: Instant, ticket: UInt64) {
        state = .ready
        scheduledAt = at
        enqueue(ticket: ticket)
    }

    /// Gives the task a new valid queue entry.
    mutating func enqueue(ticket: UInt64) {
        queueTicket = ticket
        isQueued = true
    }

    mutating func complete(result: RawJSON, at: Instant, order: UInt64) {
        state = .completed
        self.result = result
        error = nil
        finishedAt = at
        isQueued = false
        awaiting = nil
        spawnOutput = nil
        completionOrder = order
    }
}
