import ArgumentParser
import Flowline
import FlowlineProtocol
import Foundation

/// `flowline rerun ID [--from TASK]...` or `flowline rerun --all --state S --name N --metadata k=v [--yes]`.
struct RerunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rerun",
        abstract: "Run an ended workflow again under its id (or, with --all, every one a filter matches)."
    )

    @OptionGroup var options: ServerOptions
    @Argument(help: "The workflow id.")
    var id: String?
    @Option(help: "Run this task again too, with everything downstream of it (repeatable).")
    var from: [String] = []
    @OptionGroup var bulk: BulkOptions
    @Flag(help: "Print the record as JSON.")
    var json = false

    func run() async throws {
        if bulk.all {
            guard id == nil && from.isEmpty else { throw ToolError("rerun --all takes no ID and no --from") }
            let filter = try bulk.filter(verb: "rerun")
            let matched = try await options.with { client throws(FlowlineError) in
                try await client.rerunMany(state: filter.state, name: filter.name, metadata: filter.metadata)
            }
            print("rerun \(matched) workflow\(matched == 1 ? "" : "s")")
            return
        }
        guard let id else { throw ToolError("rerun needs a workflow ID, or --all with a filter") }
        let record = try await options.with { client throws(FlowlineError) in try await client.rerun(id, from: from) }
        print(
            json
                ? record.json.description
                : StatusReport(workflow: try WorkflowView(json: record.json), now: TimeText.now()).rendered
        )
    }
}

/// `--all` with its filter and `--yes`, shared by `cancel` and `rerun`.
struct BulkOptions: ParsableArguments {
    @Flag(help: "Act on every workflow the filter matches (--state, --name, --metadata; at least one).")
    var all = false
    @Option(help: "With --all: only workflows in this state.")
    var state: String?
    @Option(help: "With --all: only workflows of this name.")
    var name: String?
    @Option(help: "With --all: only workflows with this metadata pair, KEY=VALUE (repeatable: all must hold).")
    var metadata: [String] = []
    @Flag(help: "With --all: do not ask for confirmation.")
    var yes = false

    /// The filter, after the confirmation prompt (unless `--yes`); refuses an empty filter.
    func filter(verb: String) throws -> (state: String?, name: String?, metadata: [(String, String)]) {
        var pairs: [(String, String)] = []
        for pair in metadata {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw ToolError("--metadata takes KEY=VALUE, not \(pair)")
            }
            pairs.append((String(pair[..<equals]), String(pair[pair.index(after: equals)...])))
        }
        guard state != nil || name != nil || !pairs.isEmpty else {
            throw ToolError("--all needs a filter: --state, --name or --metadata")
        }
        if !yes {
            var described: [String] = []
            if let state { described.append("state \(state)") }
            if let name { described.append("name \(name)") }
            for (key, value) in pairs { described.append("\(key)=\(value)") }
            FileHandle.standardError.write(
                Data("\(verb) every workflow with \(described.joined(separator: ", "))? [y/N] ".utf8)
            )
            let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased()
            guard answer == "y" || answer == "yes" else { throw ToolError("not confirmed; nothing done") }
        }
        return (state, name, pairs)
    }
}
