import ArgumentParser
import Flowline
import FlowlineProtocol

/// `flowline status ID`: one row per task (SPEC §6).
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a workflow's tasks: state, attempts, worker, scheduled, started, finished, duration."
    )

    @OptionGroup var options: ServerOptions
    @Argument(help: "The workflow id.")
    var id: String
    @Flag(help: "Print the workflow record as JSON.")
    var json = false

    func run() async throws {
        let record = try await options.with { client throws(FlowlineError) in try await client.get(id) }
        print(
            json
                ? record.json.description
                : StatusReport(workflow: try WorkflowView(json: record.json), now: TimeText.now()).rendered
        )
    }
}
