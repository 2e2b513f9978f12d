public import FlowlineProtocol

/// Everything a handler gets for one run of a task (`task.run`, SPEC §2).
public struct TaskContext: Sendable {
    /// The lease this run holds; its outcome is sent for it.
    public let leaseID: String
    /// The workflow's id.
    public let workflowID: String
    /// The workflow's name.
    public let workflowName: String
    /// The task's id (`split/chunk-3` for a spawned task).
    public let taskID: String
    /// The handler named by the run: the task's, its poll handler, or its revert handler.
    public let handler: String
    /// The attempt, from 1.
    public let attempt: Int
    /// The task's input (a poll's input for a poll).
    public let input: JSON
    /// Each dep's result, by full task id.
    public let deps: [String: JSON]
    /// The workflow's input.
    public let workflowInput: JSON
    /// When the attempt times out (RFC 3339), if it has a timeout.
    public let deadline: String?
    /// Whether this run is a poll of a `Future.poll` (answer `.pending` or `.done(result)`).
    public let isPoll: Bool
    /// Whether this run is a revert (its `result` is the reverted task's result).
    public let isRevert: Bool
    /// For a revert, the result of the task being reverted.
    public let result: JSON?
    /// Sends a heartbeat for this lease; posted to the worker's loop thread.
    let beat: @Sendable (JSON?) -> Void

    /// Reads `task.run`'s params; nil when a required member is missing.
    init?(params: JSON, beat: @escaping @Sendable (String, JSON?) -> Void) {
        guard let lease = params["lease"]?.stringValue, let workflowID = params["workflow_id"]?.stringValue,
            let taskID = params["task_id"]?.stringValue, let handler = params["handler"]?.stringValue
        else { return nil }
        leaseID = lease
        self.workflowID = workflowID
        workflowName = params["workflow_name"]?.stringValue ?? ""
        self.taskID = taskID
        self.handler = handler
        attempt = params["attempt"]?.int64Value.flatMap { Int(exactly: $0) } ?? 1
        input = params["input"] ?? .object([:])
        deps = params["deps"]?.objectValue?.dictionary ?? [:]
        workflowInput = params["workflow_input"] ?? .object([:])
        deadline = params["deadline"]?.stringValue
        isPoll = params["poll"]?.boolValue ?? false
        isRevert = params["revert"]?.boolValue ?? false
        result = params["result"]
        self.beat = { progress in beat(lease, progress) }
    }

    /// The input decoded as `T`; a mismatch fails the task for good (`bad_input`), since retrying cannot help.
    public func input<T: Decodable>(as type: T.Type = T.self) throws(TaskFailure) -> T {
        try Self.decode(input, as: T.self, what: "input")
    }

    /// The result of dep `id` decoded as `T`; a missing dep or a mismatch fails the task for good (`bad_input`).
    public func dep<T: Decodable>(_ id: String, as type: T.Type = T.self) throws(TaskFailure) -> T {
        guard let value = deps[id] else {
            throw TaskFailure(type: "bad_input", message: "no dep '\(id)'", retryable: false)
        }
        return try Self.decode(value, as: T.self, what: "dep '\(id)'")
    }

    /// The workflow input decoded as `T`; a mismatch fails the task for good (`bad_input`).
    public func workflowInput<T: Decodable>(as type: T.Type = T.self) throws(TaskFailure) -> T {
        try Self.decode(workflowInput, as: T.self, what: "workflow input")
    }

    /// Extends the lease (`task.heartbeat`); `progress`, a number or a string, shows in the task's status.
    public func heartbeat(progress: JSON? = nil) async {
        beat(progress)
    }

    /// Extends the lease with numeric progress (such as a fraction done).
    public func heartbeat(progress: Double) async {
        beat(.double(progress))
    }

    /// Whether the run was cancelled (`task.cancel`, a lost connection or a stop); handlers that loop should stop.
    public var isCancelled: Bool { Task.isCancelled }

    private static func decode<T: Decodable>(_ value: JSON, as type: T.Type, what: String) throws(TaskFailure) -> T {
        do {
            return try value.decode(as: T.self)
        } catch {
            throw TaskFailure(type: "bad_input", message: "\(what): \(error)", retryable: false)
        }
    }
}
