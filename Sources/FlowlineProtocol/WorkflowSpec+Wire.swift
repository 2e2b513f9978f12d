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
            startAt: try Self.startAt(doc),
            retry: try doc.object("retry").map { r throws(RPCError) in try TaskSpec.retry(r) },
            tasks: tasks
        )
        if let error = validate() { throw RPCError.invalidParams(error.message, path: error.path) }
    }

    /// The fields of a workflow document.
    static let fields = ["name", "id", "input", "timeout_s", "tasks", "metadata", "start_at", "retry"]

    /// `start_at`: an RFC 3339 time.
    private static func startAt(_ doc: ParamReader) throws(RPCError) -> Instant? {
        guard let text = try doc.string("start_at") else { return nil }
        guard let instant = Instant(rfc3339: text) else {
            throw RPCError.invalidParams("must be an RFC 3339 time", path: doc.pathOf("start_at"))
        }
        return instant
    }

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

    /// The fields of a task.
    static let fields = [
        "id", "handler", "queue", "input", "deps", "retry", "timeout_s", "heartbeat_s", "revert", "priority",
        "run_if", "revert_on_failure", "limits", "fairness_key",
    ]

    /// A task's `limits`: at most this many keys.
    static let maxLimits = 16
    static let retryFields = ["max_attempts", "backoff_s", "backoff_multiplier", "max_backoff_s"]

    /// A `retry` object (a task's or the workflow's), its defaults filled in.
    static func retry(_ r: ParamReader) throws(RPCError) -> RetryPolicy {
        try r.onlyFields(Self.retryFields)
        var retry = RetryPolicy.default
        retry.maxAttempts = try r.int("max_attempts", in: 0...Int64(SpecLimits.maxAttempts)) ?? retry.maxAttempts
        retry.backoff = try r.seconds("backoff_s") ?? retry.backoff
        retry.multiplier = try r.number("backoff_multiplier") ?? retry.multiplier
        retry.maxBackoff = try r.seconds("max_backoff_s") ?? retry.maxBackoff
        return retry
    }

    private init(reading t: ParamReader) throws(RPCError) {
        try t.onlyFields(Self.fields)
        let retry = try t.object("retry").map { r throws(RPCError) in try Self.retry(r) } ?? .default
        var runIf = RunIf.allCompleted
        if let rule = try t.string("run_if") {
            guard let parsed = RunIf(rawValue: rule) else {
                throw RPCError.invalidParams("must be all_completed, all_done or any_failed", path: t.pathOf("run_if"))
            }
            runIf = parsed
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
            priority: try t.int("priority", in: -1_000_000...1_000_000) ?? 0,
            runIf: runIf,
            revertOnFailure: try t.bool("revert_on_failure") ?? false
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
