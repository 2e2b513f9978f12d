import ArgumentParser
import Flowline
import FlowlineProtocol

/// `flowline list [--state S]`: workflows, newest first.
struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List workflows, newest first.")

    @OptionGroup var options: ServerOptions
    @Option(help: "Only workflows in this state.")
    var state: String?
    @Option(help: "Only workflows with this name.")
    var name: String?
    @Option(help: "At most this many (the daemon's default is 100).")
    var limit: Int?
    @Option(help: "Continue after this workflow id (the cursor a previous page printed).")
    var after: String?
    @Flag(help: "Print the page as JSON.")
    var json = false

    func run() async throws {
        let page = try await options.with { client throws(FlowlineError) in
            try await client.list(state: state, name: name, limit: limit, after: after)
        }
        if json {
            print(
                JSON.object([
                    "workflows": .array(page.workflows.map(\.json)), "next": page.next.map(JSON.string) ?? .null,
                ]).description
            )
            return
        }
        let views = try page.workflows.map { summary throws(ToolError) in try WorkflowView(json: summary.json) }
        print(WorkflowListTable(workflows: views, now: TimeText.now(), showsTasks: false).rendered)
        if let next = page.next { print("\nmore: flowline list --after \(next)") }
    }
}

extension WorkflowSummary {
    /// The summary as `workflow.list` sends it.
    var json: JSON {
        [
            "workflow_id": .string(workflowID), "name": .string(name), "state": .string(state),
            "created_at": .string(createdAt), "finished_at": finishedAt.map(JSON.string) ?? .null,
        ]
    }
}
