public import FlowlineCore

extension WorkflowSpec {
    /// Decodes a workflow document (SPEC §2), checking types; `validate()` checks the rest.
    public init(wire: JSON) throws(RPCError) {
        let doc = try ParamReader(wire)
        let tasksJSON = try doc.array("tasks") ?? []
        var tasks: [TaskSpec] = []
        tasks.reserveCapacity(tasksJSON.count)
        for (i, task) in tasksJSON.enumerated() { tasks.append(try TaskSpec(wire: task, element: i, of: "tasks")) }
        self.init(
            name: try doc.requiredString("name"),
            id: try doc.string("id").map(WorkflowID.init),
            input: doc.raw("input", default: .emptyObject) ?? .emptyObject,
            timeout: try doc.seconds("timeout_s"),
            tasks: tasks
        )
        if let error = validate() { throw RPCError.invalidParams(error.message, path: error.path) }
    }
}

extension TaskSpec {
    /// Decodes one task of a workflow document or of `task.spawn`.
    public init(wire: JSON, path: String) throws(RPCError) {
        try self.init(reading: try ParamReader(wire, path: path))
    }

    /// Decodes element `element` of the task list at `list` (`tasks`), naming it `tasks[3]` only in an error.
    public init(wire: JSON, element: Int, of list: String) throws(RPCError) {
        try self.init(reading: try ParamReader(wire, element: element, of: list))
    }

    private init(reading t: ParamReader) throws(RPCError) {
        var retry = RetryPolicy.default
        if let r = try t.object("retry") {
            retry.maxAttempts = try r.int("max_attempts", in: 0...Int64(SpecLimits.maxAttempts)) ?? retry.maxAttempts
            retry.backoff = try r.seconds("backoff_s") ?? retry.backoff
            retry.multiplier = try r.number("backoff_multiplier") ?? retry.multiplier
            retry.maxBackoff = try r.seconds("max_backoff_s") ?? retry.maxBackoff
        }
        self.init(
            id: try t.requiredString("id"),
            handler: try t.requiredString("handler"),
            queue: try t.string("queue") ?? "default",
            input: t.raw("input", default: .emptyObject) ?? .emptyObject,
            deps: try t.strings("deps") ?? [],
            retry: retry,
            timeout: try t.seconds("timeout_s"),
            heartbeat: try t.seconds("heartbeat_s"),
            revert: try t.string("revert"),
            priority: try t.int("priority", in: -1_000_000...1_000_000) ?? 0
        )
    }
}
