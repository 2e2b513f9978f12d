public import FlowlineCore

extension JSONWriter {
    /// The workflow record of SPEC §2 "Records"; every field is always present.
    public mutating func workflow(_ w: Workflow) {
        beginObject()
        workflowIdentity(w)
        key(JSONKey.input)
        raw(w.input)
        key(JSONKey.result)
        if w.state == .completed {
            beginObject()
            for (id, result) in w.sinkResults {
                key(id.rawValue)
                raw(result)
            }
            endObject()
        } else {
            null()
        }
        key(JSONKey.error)
        taskError(w.error)
        key(JSONKey.reverted)
        bool(w.reverted)
        key(JSONKey.revertFailures)
        beginArray()
        for id in w.revertFailures { string(id.rawValue) }
        endArray()
        key(JSONKey.createdAt)
        time(w.createdAt)
        key(JSONKey.startAt)
        time(w.startAt)
        key(JSONKey.finishedAt)
        time(w.finishedAt)
        key(JSONKey.attempt)
        int(Int64(w.attempt))
        key("paused")
        bool(w.paused)
        key(JSONKey.tasks)
        beginArray()
        for task in w.tasks { self.task(task) }
        endArray()
        endObject()
    }

    mutating func task(_ t: TaskRecord) {
        beginObject()
        key(JSONKey.id)
        string(t.id.rawValue)
        key(JSONKey.handler)
        string(t.spec.handler)
        key(JSONKey.queue)
        string(t.spec.queue)
        key(JSONKey.deps)
        beginArray()
        for dep in t.deps { string(dep.rawValue) }
        endArray()
        key(JSONKey.state)
        string(t.state.rawValue)
        key(JSONKey.attempts)
        int(Int64(t.attempts))
        key(JSONKey.worker)
        if let worker = t.worker { string(worker) } else { null() }
        key(JSONKey.scheduledAt)
        time(t.scheduledAt)
        key(JSONKey.startedAt)
        time(t.startedAt)
        key(JSONKey.finishedAt)
        time(t.finishedAt)
        key(JSONKey.retryAt)
        time(t.retryAt)
        key(JSONKey.progress)
        raw(t.progress)
        key(JSONKey.result)
        raw(t.result)
        key(JSONKey.error)
        taskError(t.error)
        key("waiting_for")
        if let reason = t.waitingFor { string(reason) } else { null() }
        endObject()
    }

    /// `{type, message, retryable}` (and `data`, as its sender wrote it, when it had some) or null.
    public mutating func taskError(_ e: TaskError?) {
        guard let e else { return null() }
        beginObject()
        key("type")
        string(e.type)
        key("message")
        string(e.message)
        key("retryable")
        bool(e.retryable)
        if let data = e.data {
            key("data")
            raw(data.bytes)
        }
        endObject()
    }
}

extension JSONWriter {
    /// The members every workflow record and list entry start with: `workflow_id`, `name`, `state`, `metadata`
    /// (`{}` when the document had none).
    public mutating func workflowIdentity(_ w: Workflow) {
        key(JSONKey.workflowID)
        string(w.id.rawValue)
        key(JSONKey.name)
        string(w.name)
        key(JSONKey.state)
        string(w.state.rawValue)
        key(JSONKey.metadata)
        beginObject()
        for entry in w.metadata {
            key(entry.key)
            string(entry.value)
        }
        endObject()
    }
}

extension JSONKey {
    // The member names of workflow and task records, encoded once: an answer with a large workflow writes each of
    // them once per task.
    static let name = JSONKey("name")
    static let state = JSONKey("state")
    static let reverted = JSONKey("reverted")
    static let revertFailures = JSONKey("revert_failures")
    static let createdAt = JSONKey("created_at")
    static let startAt = JSONKey("start_at")
    static let finishedAt = JSONKey("finished_at")
    static let tasks = JSONKey("tasks")
    static let queue = JSONKey("queue")
    static let attempts = JSONKey("attempts")
    static let worker = JSONKey("worker")
    static let scheduledAt = JSONKey("scheduled_at")
    static let startedAt = JSONKey("started_at")
    static let retryAt = JSONKey("retry_at")
    static let progress = JSONKey("progress")
    static let metadata = JSONKey("metadata")
}
