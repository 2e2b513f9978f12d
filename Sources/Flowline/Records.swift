public import FlowlineProtocol

/// A workflow record (SPEC §2 "Records"), as `workflow.get`, `workflow.wait` and `workflow.cancel` answer.
public struct WorkflowRecord: Sendable, Equatable {
    /// The workflow's id.
    public var workflowID: String
    /// The workflow's name.
    public var name: String
    /// `running`, `reverting`, `completed`, `failed`, `cancelled` or `timed_out`.
    public var state: String
    /// The workflow's input.
    public var input: JSON
    /// For a completed workflow, each sink task's result by task id; else nil.
    public var result: JSON?
    /// Why the workflow failed, if it did.
    public var error: TaskFailure?
    /// Whether every revert succeeded.
    public var reverted: Bool
    /// The tasks whose revert failed for good.
    public var revertFailures: [String]
    /// When it was submitted (RFC 3339; see `Timestamp.parse`).
    public var createdAt: String
    /// When it ended, if it has.
    public var finishedAt: String?
    /// Its tasks, in the order they were added.
    public var tasks: [TaskStatus]
    /// The record exactly as the daemon sent it.
    public var json: JSON

    /// Reads a record; a missing or mistyped field is a `.protocolViolation`.
    public init(json: JSON) throws(FlowlineError) {
        let r = try RecordReader(json, "workflow")
        workflowID = try r.string("workflow_id")
        name = try r.string("name")
        state = try r.string("state")
        input = r.optional("input") ?? .object([:])
        result = r.optional("result")
        error = try r.failure("error")
        reverted = try r.bool("reverted", default: false)
        revertFailures = try r.strings("revert_failures", default: [])
        createdAt = try r.string("created_at")
        finishedAt = try r.optionalString("finished_at")
        var tasks: [TaskStatus] = []
        for task in try r.array("tasks") { tasks.append(try TaskStatus(json: task)) }
        self.tasks = tasks
        self.json = json
    }

    /// Whether the workflow has ended (`completed`, `failed`, `cancelled` or `timed_out`).
    public var isFinished: Bool { ["completed", "failed", "cancelled", "timed_out"].contains(state) }

    /// The task with this id, if the workflow has one.
    public func task(_ id: String) -> TaskStatus? { tasks.first { $0.id == id } }
}

/// One task of a workflow record.
public struct TaskStatus: Sendable, Equatable {
    /// The task id (`split/chunk-3` for a spawned task).
    public var id: String
    /// The handler that runs it.
    public var handler: String
    /// Its queue.
    public var queue: String
    /// The task ids it depends on.
    public var deps: [String]
    /// `blocked`, `ready`, `running`, `waiting`, `completed`, `failed`, ... (SPEC §2 "Task states").
    public var state: String
    /// Attempts dispatched so far.
    public var attempts: Int
    /// The worker that ran (or runs) the latest attempt.
    public var worker: String?
    /// When it last became ready.
    public var scheduledAt: String?
    /// When its latest attempt started.
    public var startedAt: String?
    /// When it ended.
    public var finishedAt: String?
    /// When the next attempt is due, between attempts.
    public var retryAt: String?
    /// The latest heartbeat's progress (a number or a string).
    public var progress: JSON?
    /// Its result, once completed (nil for a `null` result).
    public var result: JSON?
    /// Its latest error.
    public var error: TaskFailure?

    /// Reads one element of a record's `tasks`.
    public init(json: JSON) throws(FlowlineError) {
        let r = try RecordReader(json, "task")
        id = try r.string("id")
        handler = try r.string("handler")
        queue = try r.string("queue")
        deps = try r.strings("deps", default: [])
        state = try r.string("state")
        attempts = try r.int("attempts")
        worker = try r.optionalString("worker")
        scheduledAt = try r.optionalString("scheduled_at")
        startedAt = try r.optionalString("started_at")
        finishedAt = try r.optionalString("finished_at")
        retryAt = try r.optionalString("retry_at")
        progress = r.optional("progress")
        result = r.optional("result")
        error = try r.failure("error")
    }
}

/// A task's error: `{type, message, retryable}`. Throw one from a handler to choose its type and whether the
/// attempt may be retried (`retryable: false` fails the task for good).
public struct TaskFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// A short machine-readable kind, such as `"timeout"`, `"worker_lost"` or a handler's own.
    public var type: String
    /// What happened.
    public var message: String
    /// Whether another attempt may follow.
    public var retryable: Bool

    /// Creates a failure.
    public init(type: String = "error", message: String, retryable: Bool = true) {
        self.type = type
        self.message = message
        self.retryable = retryable
    }

    /// Reads `{type, message, retryable}`.
    public init(json: JSON) throws(FlowlineError) {
        let r = try RecordReader(json, "error")
        type = try r.optionalString("type") ?? "error"
        message = try r.optionalString("message") ?? ""
        retryable = try r.bool("retryable", default: true)
    }

    /// The wire form.
    public var json: JSON { ["type": .string(type), "message": .string(message), "retryable": .bool(retryable)] }

    /// `"type: message"`.
    public var description: String { "\(type): \(message)" }
}
