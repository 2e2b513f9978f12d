public import FlowlineProtocol

/// What a handler answers for its task: exactly one outcome per lease (SPEC §2).
public enum TaskOutcome: Sendable, Equatable {
    /// `task.complete`: the task completed with this result (for a poll, `{"done": ..., "result": ...}`).
    case result(JSON)
    /// `task.await`: the task waits on the outside world and completes when the future resolves.
    case await(Future)
    /// `task.spawn`: adds `tasks` (documents' task objects) to the workflow; the spawning task completes with the
    /// result of the task named `output`.
    case spawn(tasks: [JSON], output: String)
    /// `task.fail`: the attempt failed; with `retryable` false the task fails for good.
    case fail(type: String, message: String, retryable: Bool)

    /// `task.spawn` of tasks written in Swift.
    public static func spawn(_ steps: [Step], output: String) -> TaskOutcome {
        .spawn(tasks: steps.map(\.json), output: output)
    }

    /// `task.spawn` of the tasks a builder lists: `.spawn(output: "merge") { Step("a") ... }`.
    public static func spawn(output: String, @WorkflowBuilder _ steps: () -> [Step]) -> TaskOutcome {
        .spawn(steps(), output: output)
    }

    /// `task.complete` with any encodable result.
    public static func result(encoding value: some Encodable) throws(FlowlineError) -> TaskOutcome {
        .result(try JSON(encoding: value))
    }

    /// A poll's answer: not done yet, ask again after the interval.
    public static let pending = TaskOutcome.result(["done": false])

    /// A poll's answer: done, and the waiting task completes with `result`.
    public static func done(_ result: JSON) -> TaskOutcome { .result(["done": true, "result": result]) }

    /// `task.fail` with a `TaskFailure`.
    public static func fail(_ failure: TaskFailure) -> TaskOutcome {
        .fail(type: failure.type, message: failure.message, retryable: failure.retryable)
    }

    /// The outcome's method.
    var method: String {
        switch self {
        case .result: "task.complete"
        case .await: "task.await"
        case .spawn: "task.spawn"
        case .fail: "task.fail"
        }
    }

    /// Writes the outcome's params for `lease`: the bytes `JSONWriter.write` gives `message(lease:).params`. A
    /// result, one per task, is written straight out (`lease` sorts before `result`), without building the object
    /// around it.
    func writeParams(lease: String, into w: inout JSONWriter) {
        switch self {
        case .result(let result):
            w.beginObject()
            w.key(Self.leaseKey)
            w.string(lease)
            w.key(Self.resultKey)
            w.write(result)
            w.endObject()
        case .await, .spawn, .fail:
            w.write(message(lease: lease).params)
        }
    }

    // The member names a result is written with, encoded once.
    private static let leaseKey = JSONKey("lease")
    private static let resultKey = JSONKey("result")

    /// The outcome's method and params for `lease`.
    func message(lease: String) -> (method: String, params: JSON) {
        switch self {
        case .result(let result):
            return (method, ["lease": .string(lease), "result": result])
        case .await(let future):
            return (method, ["lease": .string(lease), "future": future.json])
        case .spawn(let tasks, let output):
            return (method, ["lease": .string(lease), "tasks": .array(tasks), "output": .string(output)])
        case .fail(let type, let message, let retryable):
            let failure = TaskFailure(type: type, message: message, retryable: retryable)
            return (method, ["lease": .string(lease), "error": failure.json])
        }
    }
}

/// What a waiting task waits for (SPEC §2 "Futures").
public enum Future: Sendable, Equatable {
    /// Completes when a client calls `resolve(key:result:)` (or fails on `reject`); ends the attempt as `timeout`
    /// after `timeout`.
    case key(String, timeout: Duration?)
    /// A durable timer: completes with `null` after the duration, across daemon restarts.
    case sleep(Duration)
    /// Runs `handler` with `input` on a worker (a `TaskContext` with `isPoll`), at once and then `interval` after
    /// each answer, until it answers `.done(result)`; nil interval is the daemon's 10 s.
    case poll(handler: String, input: JSON, interval: Duration?, timeout: Duration?)

    /// A key future without its own timeout.
    public static func key(_ key: String) -> Future { .key(key, timeout: nil) }

    /// The wire object.
    public var json: JSON {
        switch self {
        case .key(let key, let timeout):
            var object: JSONObject = ["key": .string(key)]
            if let timeout { object["timeout_s"] = timeout.jsonSeconds }
            return .object(object)
        case .sleep(let duration):
            return ["sleep_s": duration.jsonSeconds]
        case .poll(let handler, let input, let interval, let timeout):
            var poll: JSONObject = ["handler": .string(handler), "input": input]
            if let interval { poll["interval_s"] = interval.jsonSeconds }
            var object: JSONObject = ["poll": .object(poll)]
            if let timeout { object["timeout_s"] = timeout.jsonSeconds }
            return .object(object)
        }
    }
}

/// An error a handler may throw to choose the `task.fail` it becomes (its type, and whether it may be retried).
/// `TaskFailure` itself conforms.
public protocol TaskFailureConvertible: Error {
    /// The failure to report.
    var taskFailure: TaskFailure { get }
}

extension TaskFailure: TaskFailureConvertible {
    /// Itself.
    public var taskFailure: TaskFailure { self }
}

extension TaskFailure {
    /// The failure a thrown error becomes: its own, if it says; else retryable, typed by the error's Swift type.
    init(thrown error: any Error) {
        switch error {
        case let convertible as any TaskFailureConvertible: self = convertible.taskFailure
        case is CancellationError: self.init(type: "cancelled", message: "the handler was cancelled")
        case let flowline as FlowlineError: self.init(type: "flowline", message: flowline.description)
        default: self.init(type: String(describing: Swift.type(of: error)), message: String(describing: error))
        }
    }
}
