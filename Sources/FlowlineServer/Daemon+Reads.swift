import FlowlineCore
import FlowlineJournal
import FlowlineProtocol

extension Daemon {
    /// `workflow.list`: newest first, filtered, at most `limit`, with the cursor for the next page.
    func list(_ query: ListQuery) -> (workflows: [Workflow], next: String?) {
        let order = coordinator.state.order
        var position = order.count - 1
        if let after = query.after {
            guard let start = order.lastIndex(of: WorkflowID(after)) else { return ([], nil) }
            position = start - 1
        }
        var page: [Workflow] = []
        while position >= 0 && page.count < query.limit {
            if let w = coordinator.state.workflows[order[position]], query.filter.matches(w) {
                page.append(w)
            }
            position -= 1
        }
        let more = position >= 0 && page.count == query.limit
        return (page, more ? page.last?.id.rawValue : nil)
    }

    /// `stats`: workflows and tasks by state, journal facts, uptime.
    func writeStats(_ w: inout JSONWriter) {
        // Kept up by the core as states change: reading them walks no workflow.
        let workflows = coordinator.state.workflowCounts
        let tasks = coordinator.state.taskCounts
        w.beginObject()
        w.key("workflows")
        w.beginObject()
        for state in WorkflowState.allCases {
            w.key(state.rawValue)
            w.int(Int64(workflows[state]))
        }
        w.endObject()
        w.key("tasks")
        w.beginObject()
        for state in TaskState.allCases {
            w.key(state.rawValue)
            w.int(Int64(tasks[state]))
        }
        w.endObject()
        let stats = try? journal.stats()
        w.key("journal")
        w.beginObject()
        w.key("bytes")
        w.int(Int64(stats?.fileBytes ?? 0))
        w.key("last_seq")
        w.int(Int64(journal.lastSeq))
        w.key("commits")
        w.int(Int64(journal.commits))
        w.endObject()
        w.key("uptime_s")
        w.double((Clock.now() - startedAt).seconds)
        w.key("paused_queues")
        w.beginArray()
        for queue in coordinator.state.pausedQueues.sorted() { w.string(queue) }
        w.endArray()
        w.endObject()
    }
}

extension JSONWriter {
    mutating func workflowList(_ page: (workflows: [Workflow], next: String?)) {
        beginObject()
        key("workflows")
        beginArray()
        for w in page.workflows {
            beginObject()
            workflowIdentity(w)
            key("created_at")
            time(w.createdAt)
            key("finished_at")
            time(w.finishedAt)
            endObject()
        }
        endArray()
        key("next")
        if let next = page.next { string(next) } else { null() }
        endObject()
    }

    mutating func workers(_ workers: [WorkerInfo]) {
        beginObject()
        key("workers")
        beginArray()
        for worker in workers {
            beginObject()
            key("name")
            string(worker.name)
            key("queues")
            beginArray()
            for queue in worker.queues { string(queue) }
            endArray()
            key("concurrency")
            int(Int64(worker.concurrency))
            key("running")
            int(Int64(worker.running.count))
            key("connected_at")
            time(worker.connectedAt)
            endObject()
        }
        endArray()
        endObject()
    }
}
