public import FlowlineCore

extension JSONWriter {
    /// The workflow record of SPEC §2 "Records"; every field is always present.
    public mutating func workflow(_ w: Workflow) {
        beginObject()
        workflowIdentity(w)
        key("input")
        raw(w.input)
        key("result")
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
        key("error")
        taskError(w.error)
        key("reverted")
        bool(w.reverted)
        key("revert_failures")
        beginArray()
        for id in w.revertFailures { string(id.rawValue) }
        endArray()
        key("created_at")
        time(w.createdAt)
        key("finished_at")
        time(w.finishedAt)
        key("tasks")
        beginArray()
        for task in w.tasks { self.task(task) }
        endArray()
        endObject()
    }

    mutating func task(_ t: TaskRecord) {
        beginObject()
        key("id")
        string(t.id.rawValue)
        key("handler")
        string(t.spec.handler)
        key("queue")
        string(t.spec.queue)
        key("deps")
        beginArray()
        for dep in t.deps { string(dep.rawValue) }
        endArray()
        key("state")
        string(t.state.rawValue)
        key("attempts")
        int(Int64(t.attempts))
        key("worker")
        if let worker = t.worker { string(worker) } else { null() }
        key("scheduled_at")
        time(t.scheduledAt)
        key("started_at")
        time(t.startedAt)
        key("finished_at")
        time(t.finishedAt)
        key("retry_at")
        time(t.retryAt)
        key("progress")
        raw(t.progress)
        key("result")
        raw(t.result)
        key("error")
        taskError(t.error)
        endObject()
    }

    /// `{type, message, retryable}` or null.
    public mutating func taskError(_ e: TaskError?) {
        guard let e else { return null() }
        beginObject()
        key("type")
        string(e.type)
        key("message")
        string(e.message)
        key("retryable")
        bool(e.retryable)
        endObject()
    }
}

extension JSONWriter {
    /// The members every workflow record and list entry start with: `workflow_id`, `name`, `state`.
    public mutating func workflowIdentity(_ w: Workflow) {
        key("workflow_id")
        string(w.id.rawValue)
        key("name")
        string(w.name)
        key("state")
        string(w.state.rawValue)
    }
}
