public import FlowlineProtocol

/// What `workflow.submit` answers.
public struct Submission: Sendable, Equatable {
    /// The workflow's id: the document's `id`, or one the daemon made.
    public var workflowID: String
    /// False when a workflow with this id already existed and nothing new started.
    public var created: Bool

    /// Reads `{workflow_id, created}`.
    public init(json: JSON) throws(FlowlineError) {
        let r = try RecordReader(json, "submission")
        workflowID = try r.string("workflow_id")
        created = try r.bool("created")
    }
}

/// One workflow of a `workflow.list` page.
public struct WorkflowSummary: Sendable, Equatable {
    /// The workflow's id.
    public var workflowID: String
    /// Its name.
    public var name: String
    /// Its state.
    public var state: String
    /// When it was submitted.
    public var createdAt: String
    /// When it ended, if it has.
    public var finishedAt: String?

    /// Reads `{workflow_id, name, state, created_at, finished_at}`.
    public init(json: JSON) throws(FlowlineError) {
        let r = try RecordReader(json, "workflow")
        workflowID = try r.string("workflow_id")
        name = try r.string("name")
        state = try r.string("state")
        createdAt = try r.string("created_at")
        finishedAt = try r.optionalString("finished_at")
    }
}

/// A page of `workflow.list`, newest first.
public struct WorkflowPage: Sendable, Equatable {
    /// The workflows on this page.
    public var workflows: [WorkflowSummary]
    /// The cursor to pass as `after` for the next page; nil at the end.
    public var next: String?

    /// Reads `{workflows, next}`.
    public init(json: JSON) throws(FlowlineError) {
        let r = try RecordReader(json, "page")
        var workflows: [WorkflowSummary] = []
        for item in try r.array("workflows") { workflows.append(try WorkflowSummary(json: item)) }
        self.workflows = workflows
        next = try r.optionalString("next")
    }
}

/// One journal event of `workflow.history`.
public struct HistoryEvent: Sendable, Equatable {
    /// Its journal sequence number.
    public var seq: UInt64
    /// When it happened (RFC 3339).
    public var time: String
    /// Its type, such as `task_completed`.
    public var type: String
    /// The whole event object, with its type-specific fields.
    public var fields: JSON

    /// Reads `{seq, time, type, ...}`.
    public init(json: JSON) throws(FlowlineError) {
        let r = try RecordReader(json, "event")
        guard let seq = json["seq"]?.int64Value, let value = UInt64(exactly: seq) else {
            throw .protocolViolation("event.seq must be a non-negative integer")
        }
        self.seq = value
        time = try r.string("time")
        type = try r.string("type")
        fields = json
    }
}

/// One connected worker, as `workers.list` shows it.
public struct WorkerRecord: Sendable, Equatable {
    /// The name it gave in `hello`.
    public var name: String
    /// The queues it takes tasks from.
    public var queues: [String]
    /// How many tasks it runs at once.
    public var concurrency: Int
    /// How many it runs now.
    public var running: Int
    /// When it connected.
    public var connectedAt: String

    /// Reads `{name, queues, concurrency, running, connected_at}`.
    public init(json: JSON) throws(FlowlineError) {
        let r = try RecordReader(json, "worker")
        name = try r.string("name")
        queues = try r.strings("queues")
        concurrency = try r.int("concurrency")
        running = try r.int("running")
        connectedAt = try r.string("connected_at")
    }
}
