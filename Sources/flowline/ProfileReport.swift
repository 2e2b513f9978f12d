/// The text of `flowline profile`, like `simpleflow profile`: per task the wait (scheduled → started), the run
/// (started → finished) and the run's share of the workflow's total time, sorted by start, with a timeline.
struct ProfileReport {
    var workflow: WorkflowView
    /// The time open spans are measured to; `nil` leaves them blank.
    var now: Millis?
    /// Characters in the timeline column.
    var timelineWidth = 30

    var rendered: String {
        let header = WorkflowHeader(workflow: workflow, now: now)
        let times = TimeColumn(workflow)
        let span = self.span(total: header.totalTime)
        var table = TextTable([
            .init("Task"), .init("State"), .init("Scheduled"), .init("Wait", .right), .init("Started"),
            .init("Run", .right), .init("Finished"), .init("%", .right), .init("Timeline"),
        ])
        var waits: Millis = 0
        var runs: Millis = 0
        for task in sortedTasks {
            let wait = task.scheduled.flatMap { scheduled in task.started.map { $0 - scheduled } }
            let run = task.started.flatMap { started in (task.finished ?? openEnd(task)).map { $0 - started } }
            waits += wait ?? 0
            runs += run ?? 0
            let share = run.flatMap { run in span.map { $0.length > 0 ? Double(run) * 100 / Double($0.length) : 0 } }
            table.append([
                task.id, task.state, times.text(task.scheduled), wait.map(TimeText.seconds) ?? "",
                times.text(task.started), run.map(TimeText.seconds) ?? "", times.text(task.finished),
                share.map(Self.percent) ?? "", span.map { timeline(task, in: $0) } ?? "",
            ])
        }
        var text = header.rendered + "\n\n## Start to close timings\n\n" + table.rendered
        text += "\n\nWaiting \(TimeText.seconds(waits)) s, running \(TimeText.seconds(runs)) s in all"
        text += " (timeline: . waiting for a worker, # running)"
        return text
    }

    /// Started tasks by start time, then the rest by scheduled time, then in record order.
    var sortedTasks: [TaskView] {
        workflow.tasks.enumerated().sorted { a, b in
            let ka = (a.element.started ?? .max, a.element.scheduled ?? .max, a.offset)
            let kb = (b.element.started ?? .max, b.element.scheduled ?? .max, b.offset)
            return ka < kb
        }.map(\.element)
    }

    private func openEnd(_ task: TaskView) -> Millis? { task.isFinished ? nil : now }

    /// The workflow's span: created to finished (or now); when unknown, created to the last task time.
    private func span(total: Millis?) -> (start: Millis, length: Millis)? {
        guard let created = workflow.created else { return nil }
        if let total { return (created, total) }
        let last = workflow.tasks.compactMap { $0.finished ?? $0.started ?? $0.scheduled }.max()
        return last.map { (created, $0 - created) }
    }

    private func timeline(_ task: TaskView, in span: (start: Millis, length: Millis)) -> String {
        guard span.length > 0 else { return "" }
        func column(_ ms: Millis) -> Int {
            Int(min(max(0, (ms - span.start) * Int64(timelineWidth) / span.length), Int64(timelineWidth - 1)))
        }
        var cells = Array(repeating: Character(" "), count: timelineWidth)
        if let scheduled = task.scheduled {
            let end = task.started ?? task.finished ?? now ?? scheduled
            for i in column(scheduled)...max(column(scheduled), column(end)) { cells[i] = "." }
        }
        if let started = task.started {
            let end = task.finished ?? openEnd(task) ?? started
            for i in column(started)...max(column(started), column(end)) { cells[i] = "#" }
        }
        return String(cells).replacingTrailingSpaces()
    }

    private static func percent(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}

extension String {
    fileprivate func replacingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
