import ArgumentParser
import Flowline
import FlowlineProtocol

/// `flowline cancel ID [--revert]`: cancels a workflow and prints its status.
struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a workflow (and with --revert, run its reverts)."
    )

    @OptionGroup var options: ServerOptions
    @Argument(help: "The workflow id.")
    var id: String
    @Option(help: "Why, for the journal.")
    var reason: String?
    @Flag(help: "Run the revert handlers of its completed tasks.")
    var revert = false
    @Flag(help: "Print the record as JSON.")
    var json = false

    func run() async throws {
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
