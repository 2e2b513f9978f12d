public import FlowlineProtocol

/// A workflow written in Swift; `document` is exactly the SPEC §2 workflow document.
///
/// ```swift
/// let etl = Workflow(name: "etl", id: "etl-2026-11-22", input: ["day": "2026-11-22"]) {
///     Step("extract").retry(maxAttempts: 3, backoff: .seconds(1)).timeout(.seconds(300))
///     Step("transform").deps("extract")
///     Step("load").deps("transform")
/// }
/// ```
public struct Workflow: Sendable, Equatable {
    /// The workflow's name.
    public var name: String
    /// Its id, an idempotency key; nil lets the daemon make one.
    public var id: String?
    /// The workflow input every task receives as `workflow_input`; nil writes none (the daemon's `{}`).
    public var input: JSON?
    /// How long the whole workflow may take before it ends `timed_out`.
    public var timeout: Duration?
    /// Its tasks.
    public var tasks: [Step]
    /// The whole workflow's `retry` (SPEC §11), as `Step.retry` writes a task's; nil runs it once.
    public var retry: JSON?

    /// A workflow of the tasks the builder lists.
    public init(
        name: String,
        id: String? = nil,
        input: JSON? = nil,
        timeout: Duration? = nil,
        @WorkflowBuilder tasks: () -> [Step]
    ) {
        self.init(name: name, id: id, input: input, timeout: timeout, tasks: tasks())
    }

    /// A workflow of `tasks`.
    public init(name: String, id: String? = nil, input: JSON? = nil, timeout: Duration? = nil, tasks: [Step]) {
        self.name = name
        self.id = id
        self.input = input
        self.timeout = timeout
        self.tasks = tasks
    }

    /// The workflow document (SPEC §2), with only the members that were set.
    public var document: JSON {
        var object: JSONObject = ["name": .string(name), "tasks": .array(tasks.map(\.json))]
        if let id { object["id"] = .string(id) }
        if let input { object["input"] = input }
        if let timeout { object["timeout_s"] = timeout.jsonSeconds }
        if let retry { object["retry"] = retry }
        return .object(object)
    }
}
