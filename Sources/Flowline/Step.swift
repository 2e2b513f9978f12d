public import FlowlineProtocol

/// One task of a workflow written in Swift; it encodes to one element of the document's `tasks` (SPEC §2).
///
/// Only what is set is written, so the daemon's defaults apply to the rest:
/// `Step("load").deps("transform").retry(maxAttempts: 3, backoff: .seconds(1))`.
/// (It is not called `Task`, which would hide Swift's own `Task` in every file that imports Flowline.)
public struct Step: Sendable, Equatable {
    /// The task id: non-empty, without `/`.
    public var id: String
    /// The handler that runs it.
    public var handler: String
    /// The wire members beyond `id` and `handler`, as set by the modifiers.
    private var members: JSONObject = [:]

    /// A task `id` run by `handler` (by default the handler named like the task).
    public init(_ id: String, handler: String? = nil) {
        self.id = id
        self.handler = handler ?? id
    }

    /// The tasks that must complete first.
    public func deps(_ ids: String...) -> Step { deps(ids) }

    /// The tasks that must complete first.
    public func deps(_ ids: [String]) -> Step { with("deps", .array(ids.map(JSON.string))) }

    /// The task's input (default `{}`).
    public func input(_ input: JSON) -> Step { with("input", input) }

    /// The task's input, from any encodable value.
    public func input(encoding value: some Encodable) throws(FlowlineError) -> Step {
        with("input", try JSON(encoding: value))
    }

    /// The queue it runs on (default `"default"`).
    public func queue(_ queue: String) -> Step { with("queue", .string(queue)) }

    /// Attempts and the wait between them: `min(backoff * multiplier^(n-1), maxBackoff)` before attempt n+1.
    /// Parameters left nil take the daemon's defaults (1 s, 2, 300 s).
    public func retry(
        maxAttempts: Int,
        backoff: Duration? = nil,
        multiplier: Double? = nil,
        maxBackoff: Duration? = nil
    ) -> Step {
        var retry: JSONObject = ["max_attempts": .int(Int64(maxAttempts))]
        if let backoff { retry["backoff_s"] = backoff.jsonSeconds }
        if let multiplier { retry["backoff_multiplier"] = .double(multiplier) }
        if let maxBackoff { retry["max_backoff_s"] = maxBackoff.jsonSeconds }
        return with("retry", .object(retry))
    }

    /// How long one attempt may run before it ends as `timeout`.
    public func timeout(_ timeout: Duration) -> Step { with("timeout_s", timeout.jsonSeconds) }

    /// How long a running attempt may go without a heartbeat before it ends as `worker_lost`.
    public func heartbeat(_ interval: Duration) -> Step { with("heartbeat_s", interval.jsonSeconds) }

    /// The handler that undoes this task when the workflow fails or is cancelled with revert.
    public func revert(_ handler: String) -> Step { with("revert", .string(handler)) }

    /// Higher runs first (default 0).
    public func priority(_ priority: Int) -> Step { with("priority", .int(Int64(priority))) }

    /// The task as one element of a document's `tasks`.
    public var json: JSON {
        var object = members
        object["id"] = .string(id)
        object["handler"] = .string(handler)
        return .object(object)
    }

    func with(_ key: String, _ value: JSON) -> Step {
        var copy = self
        copy.members[key] = value
        return copy
    }
}

/// The name the API sketch used for `Step`.
public typealias TaskBuilder = Step

/// Collects the `Step`s of a workflow (or of a `task.spawn`), with `if`, `switch` and `for` allowed.
@resultBuilder
public enum WorkflowBuilder {
    /// One step.
    public static func buildExpression(_ step: Step) -> [Step] { [step] }
    /// Several steps, such as a `map` over inputs.
    public static func buildExpression(_ steps: [Step]) -> [Step] { steps }
    /// The steps of a block, in order.
    public static func buildBlock(_ parts: [Step]...) -> [Step] { parts.flatMap { $0 } }
    /// An `if` without `else`.
    public static func buildOptional(_ steps: [Step]?) -> [Step] { steps ?? [] }
    /// The first branch of an `if`/`else` or `switch`.
    public static func buildEither(first steps: [Step]) -> [Step] { steps }
    /// The second branch of an `if`/`else` or `switch`.
    public static func buildEither(second steps: [Step]) -> [Step] { steps }
    /// A `for` loop.
    public static func buildArray(_ parts: [[Step]]) -> [Step] { parts.flatMap { $0 } }
}
