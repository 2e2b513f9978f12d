import ArgumentParser
import Flowline
import FlowlineProtocol

/// `flowline cancel ID [--revert]`: cancels a workflow and prints its status; `flowline cancel --all` with a filter
/// cancels every running workflow it matches.
struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a workflow (and with --revert, run its reverts)."
    )

    @OptionGroup var options: ServerOptions
    @Argument(help: "The workflow id.")
    var id: String?
    @OptionGroup var bulk: BulkOptions
    @Option(help: "Why, for the journal.")
    var reason: String?
    @Flag(help: "Run the revert handlers of its completed tasks.")
    var revert = false
    @Flag(help: "Print the record as JSON.")
    var json = false

    func run() async throws {
        if bulk.all {
            guard id == nil && !revert else { throw ToolError("cancel --all takes no ID and no --revert") }
            let filter = try bulk.filter(verb: "cancel")
            let matched = try await options.with { client throws(FlowlineError) in
                try await client.cancelMany(state: filter.state, name: filter.name, metadata: filter.metadata)
            }
            print("cancelled \(matched) workflow\(matched == 1 ? "" : "s")")
            return
        }
        guard let id else { throw ToolError("cancel needs a workflow ID, or --all with a filter") }
        let record = try await options.with { client throws(FlowlineError) in
            try await client.cancel(id, reason: reason, revert: revert)
        }
        print(
            json
                ? record.json.description
                : StatusReport(workflow: try WorkflowView(json: record.json), now: TimeText.now()).rendered
        )
    }
}
