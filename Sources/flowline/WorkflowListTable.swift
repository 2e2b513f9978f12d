/// Workflows one per row, as `list` and `replay` print them.
struct WorkflowListTable {
    var workflows: [WorkflowView]
    var now: Millis?
    /// Whether to show the tasks finished / total (`workflow.list` summaries carry no tasks).
    var showsTasks = true

    var rendered: String {
        var table = TextTable([
            .init("Workflow"), .init("Name"), .init("State"), .init("Tasks", .right), .init("Created"),
            .init("Finished"), .init("Duration", .right),
        ])
        for w in workflows {
            let done = w.tasks.count { $0.isFinished }
            let duration = w.created.flatMap { created in (w.finished ?? now).map { TimeText.duration($0 - created) } }
            table.append([
                w.id, w.name, w.state, "\(done)/\(w.tasks.count)", w.created.map(TimeText.dateTime) ?? "",
                w.finished.map(TimeText.dateTime) ?? "", duration ?? "",
            ])
        }
        if !showsTasks {
            table.columns.remove(at: 3)
            table.rows = table.rows.map { row in
                var row = row
                row.remove(at: 3)
                return row
            }
        }
        return table.rendered
    }
}
