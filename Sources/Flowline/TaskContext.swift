public import FlowlineProtocol

/// Everything a handler gets for one run of a task (`task.run`, SPEC §2).
public struct TaskContext: Sendable {
    /// The lease this run holds; its outcome is sent for it.
    public var leaseID: String { run.lease }
    /// The workflow's id.
    public var workflowID: String { run.workflowID }
    /// The workflow's name.
    public var workflowName: String { run.workflowName }
    /// The task's id (`split/chunk-3` for a spawned task).
    public var taskID: String { run.taskID }
    /// The handler named by the run: the task's, its poll handler, or its revert handler.
    public var handler: String { run.handler }
    /// The attempt, from 1.
    public var attempt: Int { run.attempt }
    /// The task's input (a poll's input for a poll).
    public var input: JSON { run.input }
    /// Each dep's result, by full task id.
    public var deps: [String: JSON] { run.deps }
    /// The workflow's input.
    public var workflowInput: JSON { run.workflowInput }
    /// When the attempt times out (RFC 3339), if it has a timeout.
    public var deadline: String? { run.deadline }
    /// Whether this run is a poll of a `Future.poll` (answer `.pending` or `.done(result)`).
    public var isPoll: Bool { run.isPoll }
    /// Whether this run is a revert (its `result` is the reverted task's result).
    public var isRevert: Bool { run.isRevert }
    /// For a revert, the result of the task being reverted.
    public var result: JSON? { run.result }

    // The members live in one immutable object: a context is copied into the handler's task and its closures, and
    // a copy of a dozen strings and JSON values costs a dozen retains and, later, a dozen releases.
    private let run: Run

    /// Reads `task.run`'s params; nil when a required member is missing.
    init?(params: JSON, beat: @escaping @Sendable (String, JSON?) -> Void) {
        guard case .object(let members) = params, let run = Run(members, beat: beat) else { return nil }
        self.run = run
    }

    /// Sends a heartbeat for this lease; posted to the worker's loop thread.
    func beat(_ progress: JSON?) {
        run.beat(run.lease, progress)
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

/// One run's members, shared by every copy of its `TaskContext`.
private final class Run: Sendable {
    // Moved in whole, not copied member by member; `init` checked that the required members are there.
    private let params: RunParams
    let beat: @Sendable (String, JSON?) -> Void

    var lease: String { params.lease! }
    var workflowID: String { params.workflowID! }
    var workflowName: String { params.workflowName }
    var taskID: String { params.taskID! }
    var handler: String { params.handler! }
    var attempt: Int { params.attempt }
    var input: JSON { params.input }
    var deps: [String: JSON] { params.deps }
    var workflowInput: JSON { params.workflowInput }
    var deadline: String? { params.deadline }
    var isPoll: Bool { params.isPoll }
    var isRevert: Bool { params.isRevert }
    var result: JSON? { params.result }
    var error: JSON? { params.error }
    var depErrors: [String: JSON] { params.depErrors }

    /// The run `members` (`task.run`'s params) describe; nil when a required member is missing.
    init?(_ members: JSONObject, beat: @escaping @Sendable (String, JSON?) -> Void) {
        // One pass over the members: a lookup per field would scan the object a dozen times per run.
        var params = RunParams()
        members.forEachMember { key, value in params.take(key, value) }
        guard params.lease != nil, params.workflowID != nil, params.taskID != nil, params.handler != nil else {
            return nil
        }
        self.params = params
        self.beat = beat
    }
}

/// The members of `task.run`'s params, with the defaults of those that may be missing.
private struct RunParams: Sendable {
    var lease: String?
    var workflowID: String?
    var taskID: String?
    var handler: String?
    var workflowName = ""
    var attempt = 1
    var input = JSON.object(JSONObject())
    var deps: [String: JSON] = [:]
    var workflowInput = JSON.object(JSONObject())
    var deadline: String?
    var isPoll = false
    var isRevert = false
    var result: JSON?
    var error: JSON?
    var depErrors: [String: JSON] = [:]

    /// Reads one member; unknown ones are ignored.
    mutating func take(_ key: String, _ value: JSON) {
        // Grouped by length first: a switch over strings compares the key with each case in turn, and each mismatch
        // costs a call into the runtime. The names are lowercase ASCII and `_`, which no other string is canonically
        // equivalent to, so a key equal to one has its length in bytes.
        switch key.utf8.count {
        case 4:
            switch key {
            case "deps": deps = value.objectValue?.dictionary ?? [:]
            case "poll": isPoll = value.boolValue ?? false
            default: break
            }
        case 5:
            switch key {
            case "lease": lease = value.stringValue
            case "input": input = value
            case "error": error = value
            default: break
            }
        case 6:
            switch key {
            case "revert": isRevert = value.boolValue ?? false
            case "result": result = value
            default: break
            }
        case 7:
            switch key {
            case "task_id": taskID = value.stringValue
            case "handler": handler = value.stringValue
            case "attempt": attempt = value.int64Value.flatMap { Int(exactly: $0) } ?? 1
            default: break
            }
        case 8: if key == "deadline" { deadline = value.stringValue }
        case 10: if key == "dep_errors" { depErrors = value.objectValue?.dictionary ?? [:] }
        case 11: if key == "workflow_id" { workflowID = value.stringValue }
        case 13: if key == "workflow_name" { workflowName = value.stringValue ?? "" }
        case 14: if key == "workflow_input" { workflowInput = value }
        default: break
        }
    }
}

extension TaskContext {
    /// For a task with a trigger rule (`runIf("all_done")`, `runIf("any_failed")`): each dep that failed for good,
    /// by full task id, with its error (SPEC §11 `dep_errors`); empty for other tasks.
    public var depErrors: [String: TaskFailure] {
        run.depErrors.compactMapValues { try? TaskFailure(json: $0) }
    }

    /// For the revert of a task that failed for good (`revertOnFailure()`): how it failed; its `result` is null.
    public var revertError: TaskFailure? { run.error.flatMap { try? TaskFailure(json: $0) } }
}
