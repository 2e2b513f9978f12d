public import FlowlineCore

extension WorkflowSpec {
    /// Decodes a workflow document (SPEC §2), checking types; `validate()` checks the rest.
    public init(wire: JSON) throws(RPCError) {
        let doc = try ParamReader(wire)
        try doc.onlyFields(Self.fields)
        let tasksJSON = try doc.array("tasks") ?? []
        var tasks: [TaskSpec] = []
        tasks.reserveCapacity(tasksJSON.count)
        for (i, task) in tasksJSON.enumerated() { tasks.append(try TaskSpec(wire: task, element: i, of: "tasks")) }
        self.init(
            name: try doc.requiredString("name"),
            id: try doc.string("id").map(WorkflowID.init),
            input: doc.raw("input", default: .emptyObject) ?? .emptyObject,
            timeout: try doc.seconds("timeout_s"),
            metadata: try Self.metadata(doc),
            tasks: tasks
        )
        if let error = validate() { throw RPCError.invalidParams(error.message, path: error.path) }
    }

    /// The fields of a workflow document. SPEC §11's `start_at` and `retry` are not implemented yet, so they are
    /// rejected like any unknown field rather than accepted and ignored.
    static let fields = ["name", "id", "input", "timeout_s", "tasks", "metadata"]

    /// `metadata`: an object of at most 32 string → string pairs, keys ≤ 64 bytes, values ≤ 256 bytes.
    private static func metadata(_ doc: ParamReader) throws(RPCError) -> [MetadataEntry] {
        guard let m = try doc.object("metadata") else { return [] }
        guard m.object.count <= SpecLimits.maxMetadataPairs else {
            throw RPCError.invalidParams("at most \(SpecLimits.maxMetadataPairs) pairs", path: "metadata")
        }
        var entries: [MetadataEntry] = []
        entries.reserveCapacity(m.object.count)
        for i in m.object.indices {
            let (key, value) = m.object[i]
            guard case .string(let text) = value else {
                throw RPCError.invalidParams("must be a string", path: m.pathOf(key))
            }
            guard !key.isEmpty, key.utf8.count <= SpecLimits.maxMetadataKeyBytes else {
                throw RPCError.invalidParams(
                    "keys must be 1 to \(SpecLimits.maxMetadataKeyBytes) bytes",
                    path: m.pathOf(key)
                )
            }
            guard text.utf8.count <= SpecLimits.maxMetadataValueBytes else {
                throw RPCError.invalidParams(
                    "values must be at most \(SpecLimits.maxMetadataValueBytes) bytes",
                    path: m.pathOf(key)
                )
            }
            entries.append(MetadataEntry(key: key, value: text))
        }
        return entries
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

    /// The fields of a task. SPEC §11's `run_if` and `revert_on_failure` are not implemented yet, so they are
    /// rejected like any unknown field rather than accepted and ignored.
    static let fields = [
        "id", "handler", "queue", "input", "deps", "retry", "timeout_s", "heartbeat_s", "revert", "priority",
        "limits", "fairness_key",
    ]

    /// A task's `limits`: at most this many keys.
    static let maxLimits = 16
    static let retryFields = ["max_attempts", "backoff_s", "backoff_multiplier", "max_backoff_s"]

    private init(reading t: ParamReader) throws(RPCError) {
        try t.onlyFields(Self.fields)
        var retry = RetryPolicy.default
        if let r = try t.object("retry") {
            try r.onlyFields(Self.retryFields)
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
        if let keys = try t.strings("limits") {
            guard keys.count <= Self.maxLimits else {
                throw RPCError.invalidParams("at most \(Self.maxLimits) keys", path: t.pathOf("limits"))
            }
            for (i, key) in keys.enumerated() {
                guard !key.isEmpty, SpecLimits.fits(key) else {
                    throw RPCError.invalidParams(
                        "must be 1 to \(SpecLimits.maxNameBytes) bytes",
                        path: t.pathOf("limits") + "[\(i)]"
                    )
                }
                guard !keys[..<i].contains(key) else {
                    throw RPCError.invalidParams("is listed twice", path: t.pathOf("limits") + "[\(i)]")
                }
            }
            limits = keys
        }
        if let key = try t.string("fairness_key") {
            guard SpecLimits.fits(key) else {
                throw RPCError.invalidParams(
                    "must be at most \(SpecLimits.maxNameBytes) bytes",
                    path: t.pathOf("fairness_key")
                )
            }
            fairnessKey = key
        }
    }
}
