/// The text of `flowline status` (and of `submit --wait`, `replay --workflow`): a header with the workflow's
/// facts, then one row per task: state, attempts, worker, scheduled, started, finished, duration.
struct StatusReport {
    var workflow: WorkflowView
    /// The time open spans (a running task, a running workflow) are measured to; `nil` leaves them blank.
    var now: Millis?

    var rendered: String {
        let times = TimeColumn(workflow)
        var table = TextTable([
            .init("Task"), .init("State"), .init("Attempts", .right), .init("Worker"), .init("Scheduled"),
            .init("Started"), .init("Finished"), .init("Duration", .right),
        ])
        let showsProgress = workflow.tasks.contains { $0.progress != nil }
        if showsProgress { table.columns.append(.init("Progress")) }
        for task in workflow.tasks {
            var cells = [
                task.id, stateText(task), String(task.attempts), task.worker ?? "", times.text(task.scheduled),
                times.text(task.started), times.text(task.finished), durationText(task),
            ]
            if showsProgress { cells.append(task.progress ?? "") }
            table.append(cells)
        }
        var text = WorkflowHeader(workflow: workflow, now: now).rendered + "\n\n## Tasks\n\n" + table.rendered
        let failures = workflow.tasks.filter { $0.error != nil }
        if !failures.isEmpty {
            text += "\n\n## Errors\n\n"
            text += failures.map { "- \($0.id) (attempt \($0.attempts)): \($0.error ?? "")" }.joined(separator: "\n")
        }
        return text
    }

    private func stateText(_ task: TaskView) -> String {
        guard task.state == "ready" else { return task.state }
        if let retryAt = task.retryAt { return "ready (retry \(TimeText.clock(retryAt)))" }
        // What holds it back (SPEC §8, §11): no capable worker, a limit, a pause.
        if let reason = task.waitingFor { return "ready (\(reason))" }
        return task.state
    }

    private func durationText(_ task: TaskView) -> String {
        guard let started = task.started else { return "" }
        if let finished = task.finished { return TimeText.duration(finished - started) }
        guard let now, !task.isFinished else { return "" }
        return TimeText.duration(now - started) + "+"
    }
}

/// The lines above a table: id, name, state, times and the total, like simpleflow's `Total time = … seconds`.
struct WorkflowHeader {
    var workflow: WorkflowView
    var now: Millis?

    var rendered: String {
        var fields = Fields()
        fields.add("Workflow", workflow.id)
        fields.add("Name", workflow.name)
        var state = workflow.state
        if workflow.reverted { state += " (reverted)" }
        if workflow.paused { state += " (paused)" }
        if !workflow.revertFailures.isEmpty {
            state += " (revert failed: \(workflow.revertFailures.joined(separator: ", ")))"
        }
        fields.add("State", state)
        if let created = workflow.created { fields.add("Created", TimeText.dateTime(created) + " UTC") }
        if let finished = workflow.finished { fields.add("Finished", TimeText.dateTime(finished) + " UTC") }
        let counts = workflow.taskCounts.map { "\($0.count) \($0.state)" }.joined(separator: ", ")
        fields.add("Tasks", "\(workflow.tasks.count): \(counts)")
        if let error = workflow.error { fields.add("Error", error) }
        var text = fields.rendered
        if let total = totalTime {
            text += "\n\nTotal time = \(TimeText.seconds(total)) seconds" + (workflow.finished == nil ? " so far" : "")
        }
        return text
    }

    /// Created to finished, or to `now` while the workflow runs.
    var totalTime: Millis? {
        guard let created = workflow.created, let end = workflow.finished ?? now else { return nil }
        return end - created
    }
}

/// Times in a table: only the clock when every time of the record falls on the day it was created (the header
/// gives the date), else the date too.
struct TimeColumn {
    private let day: String?

    init(_ workflow: WorkflowView) {
        let created = workflow.created.map(TimeText.date)
        let all = workflow.tasks.flatMap { [$0.scheduled, $0.started, $0.finished] }.compactMap { $0 }
        day = all.allSatisfy { TimeText.date($0) == created } ? created : nil
    }

    func text(_ ms: Millis?) -> String {
        guard let ms else { return "" }
        return day == nil ? TimeText.dateTime(ms) : TimeText.clock(ms)
    }
}
