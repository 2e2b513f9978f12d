import ArgumentParser
import Flowline
import FlowlineProtocol

/// `flowline profile ID`: wait and run of each task and its share of the whole, like `simpleflow profile`.
struct ProfileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Show per-task timings: wait (scheduled to started), run (started to finished), share of total."
    )

    @OptionGroup var options: ServerOptions
    @Argument(help: "The workflow id.")
    var id: String
    @Flag(help: "Print the timings as JSON.")
    var json = false

    func run() async throws {
        let record = try await options.with { client throws(FlowlineError) in try await client.get(id) }
        let report = ProfileReport(workflow: try WorkflowView(json: record.json), now: TimeText.now())
        print(json ? report.json.description : report.rendered)
    }
}

extension ProfileReport {
    /// `{workflow_id, state, total_s, tasks: [{id, state, wait_s, run_s, share}]}`, tasks sorted by start.
    var json: JSON {
        let total = WorkflowHeader(workflow: workflow, now: now).totalTime
        func seconds(_ ms: Millis?) -> JSON { ms.map { .double(Double($0) / 1000) } ?? .null }
        let tasks: [JSON] = sortedTasks.map { task in
            let wait = task.scheduled.flatMap { s in task.started.map { $0 - s } }
            let end = task.finished ?? (task.isFinished ? nil : now)
            let run = task.started.flatMap { s in end.map { $0 - s } }
            let share: JSON =
                run.flatMap { r in total.map { $0 > 0 ? .double(Double(r) / Double($0)) : .null } } ?? .null
            return [
                "id": .string(task.id), "state": .string(task.state), "wait_s": seconds(wait), "run_s": seconds(run),
                "share": share,
            ]
        }
        return [
            "workflow_id": .string(workflow.id), "state": .string(workflow.state), "total_s": seconds(total),
            "tasks": .array(tasks),
        ]
    }
}
