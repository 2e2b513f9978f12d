import ArgumentParser
import Flowline
import FlowlineProtocol

/// `flowline history ID`: the journal events of one workflow, oldest first.
struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show the journal events of one workflow, oldest first."
    )

    @OptionGroup var options: ServerOptions
    @Argument(help: "The workflow id.")
    var id: String
    @Flag(help: "Print the events as JSON.")
    var json = false

    func run() async throws {
        let events = try await options.with { client throws(FlowlineError) in try await client.history(id) }
        if json {
            print(JSON.object(["events": .array(events.map(\.fields))]).description)
            return
        }
        var table = TextTable([.init("Seq", .right), .init("Time"), .init("Type"), .init("Task"), .init("Details")])
        let common: Set<String> = ["seq", "time", "type", "workflow_id", "task_id"]
        for event in events {
            let details = (event.fields.objectValue ?? [:]).filter { !common.contains($0.key) }
                .sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.stringValue ?? $0.value.description)" }
            table.append([
                String(event.seq), TimeText.parse(event.time).map(TimeText.dateTime) ?? event.time, event.type,
                event.fields["task_id"]?.stringValue ?? "", details.joined(separator: " "),
            ])
        }
        print(table.rendered)
    }
}
