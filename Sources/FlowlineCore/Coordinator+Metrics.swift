/// What one ready queue holds, for metrics and the web UI.
public struct QueueFacts: Sendable, Equatable {
    public var queue: String
    /// Tasks waiting in the queue (stale entries not counted).
    public var ready: Int
    /// When the task that has waited longest became ready.
    public var oldestReadyAt: Instant?
}

/// Where a task runs and when it became ready and last started: what a metric needs to time an event.
public struct TaskTiming: Sendable, Equatable {
    public var queue: String
    public var scheduledAt: Instant?
    public var startedAt: Instant?
}

extension Coordinator {
    /// Every queue that ever held a task, with its live entries counted: one look-up per queued entry, so a scrape
    /// costs about what dispatching the backlog would.
    public mutating func queueFacts() -> [QueueFacts] { state.queueFacts() }

    /// The queue and times of task `t` of workflow `w`, read in place; nil when there is no such task.
    public mutating func timing(of w: WorkflowID, _ t: TaskID) -> TaskTiming? { state.timing(of: w, t) }
}

extension CoordinatorState {
    mutating func queueFacts() -> [QueueFacts] {
        var facts: [QueueFacts] = []
        facts.reserveCapacity(queues.count)
        for name in queues.keys.sorted() {
            var fact = QueueFacts(queue: name, ready: 0, oldestReadyAt: nil)
            for entry in queues[name]?.entries ?? [] {
                guard let wi = workflows.index(forKey: entry.workflow) else { continue }
                let scheduled = withWorkflow(wi) { workflow -> Instant?? in
                    // Field by field: a copy of the record would retain every field.
                    guard workflow.tasks.indices.contains(entry.task), workflow.tasks[entry.task].isQueued,
                        workflow.tasks[entry.task].queueTicket == entry.ticket
                    else { return nil }
                    return .some(workflow.tasks[entry.task].scheduledAt)
                }
                guard let scheduled else { continue }
                fact.ready += 1
                if let at = scheduled, fact.oldestReadyAt.map({ at < $0 }) ?? true { fact.oldestReadyAt = at }
            }
            facts.append(fact)
        }
        return facts
    }

    mutating func timing(of w: WorkflowID, _ t: TaskID) -> TaskTiming? {
        guard let wi = workflows.index(forKey: w) else { return nil }
        return withWorkflow(wi) { workflow in
            guard let position = workflow.position(of: t) else { return nil }
            return TaskTiming(
                queue: workflow.tasks[position].spec.queue,
                scheduledAt: workflow.tasks[position].scheduledAt,
                startedAt: workflow.tasks[position].startedAt
            )
        }
    }
}
