import FlowlineProtocol

/// A workflow record (SPEC §2 "Records") as the tables need it: times as milliseconds, errors as text.
///
/// Built from the record's JSON, whether it came from the daemon (`workflow.get`) or from an offline replay
/// (`JSONWriter.workflow`), so `status`, `profile`, `watch` and `replay` print the same thing from either.
struct WorkflowView {
    var id: String
    var name: String
    var state: String
    var created: Millis?
    var finished: Millis?
    var error: String?
    var reverted: Bool
    var revertFailures: [String]
    var tasks: [TaskView]
    /// Between `workflow.pause` and `workflow.resume`.
    var paused = false

    /// Reads a record, or a `workflow.list` summary (which has no `tasks`).
    init(json: JSON) throws(ToolError) {
        guard let id = json["workflow_id"]?.stringValue else {
            throw ToolError("the daemon sent a workflow record without workflow_id")
        }
        let tasks = json["tasks"]?.arrayValue ?? []
        self.id = id
        name = json["name"]?.stringValue ?? ""
        state = json["state"]?.stringValue ?? "?"
        created = json["created_at"]?.stringValue.flatMap(TimeText.parse)
        finished = json["finished_at"]?.stringValue.flatMap(TimeText.parse)
        error = Self.errorText(json["error"])
        reverted = json["reverted"]?.boolValue ?? false
        revertFailures = json["revert_failures"]?.arrayValue?.compactMap(\.stringValue) ?? []
        paused = json["paused"]?.boolValue ?? false
        self.tasks = tasks.map(TaskView.init)
    }

    /// Whether the workflow has ended (`workflow.wait` would answer).
    var isTerminal: Bool { ["completed", "failed", "cancelled", "timed_out"].contains(state) }

    /// Task counts by state, in the order states first appear: `3 completed, 1 running`.
    var taskCounts: [(state: String, count: Int)] {
        var counts: [(String, Int)] = []
        for task in tasks {
            if let i = counts.firstIndex(where: { $0.0 == task.state }) {
                counts[i].1 += 1
            } else {
                counts.append((task.state, 1))
            }
        }
        return counts
    }

    /// `type: message` of an error object, or `nil` for null.
    static func errorText(_ json: JSON?) -> String? {
        guard let json, !json.isNull else { return nil }
        let type = json["type"]?.stringValue ?? "error"
        let message = json["message"]?.stringValue ?? json.description
        return "\(type): \(message)"
    }
}

/// One task of a record.
struct TaskView {
    var id: String
    var handler: String
    var state: String
    var attempts: Int
    var worker: String?
    var scheduled: Millis?
    var started: Millis?
    var finished: Millis?
    var retryAt: Millis?
    var progress: String?
    /// What holds a ready task back (`waiting_for`), if anything.
    var waitingFor: String?
    var error: String?

    init(json: JSON) {
        id = json["id"]?.stringValue ?? "?"
        handler = json["handler"]?.stringValue ?? ""
        state = json["state"]?.stringValue ?? "?"
        attempts = Int(json["attempts"]?.int64Value ?? 0)
        worker = json["worker"]?.stringValue
        scheduled = json["scheduled_at"]?.stringValue.flatMap(TimeText.parse)
        started = json["started_at"]?.stringValue.flatMap(TimeText.parse)
        finished = json["finished_at"]?.stringValue.flatMap(TimeText.parse)
        retryAt = json["retry_at"]?.stringValue.flatMap(TimeText.parse)
        waitingFor = json["waiting_for"]?.stringValue
        if let progress = json["progress"], !progress.isNull {
            self.progress = progress.stringValue ?? progress.description
        }
        error = WorkflowView.errorText(json["error"])
    }

    /// Whether the task has reached a state in which nothing more happens to it.
    var isFinished: Bool { !["blocked", "ready", "running", "waiting"].contains(state) }
}
