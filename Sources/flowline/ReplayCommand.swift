import ArgumentParser
import FlowlineCore
import FlowlineJournal
import FlowlineProtocol

/// `flowline replay --data DIR [--until SEQ] [--workflow ID] [--verify]`: the state rebuilt offline.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Rebuild the state from the journal offline and print it.",
        discussion: """
            Applies the journal's events, in seq order, with the same core code (Coordinator.apply) the daemon \
            uses to recover, reading the data directory read-only (the daemon may be running). Prints the \
            workflows as `list` would, or one workflow as `status` would.

            --verify checks the rebuild two ways. Offline, always: every workflow rebuilt from the full journal \
            scan must equal the same workflow rebuilt from its own records alone (the by_workflow index that \
            `history` reads). Live, when --server is given: every rebuilt workflow must equal the running \
            daemon's workflow.get record (retried a few times for workflows still moving). There are no \
            checkpoints yet, so nothing is compared with one. Exit 1 when a check finds a difference.
            """
    )

    @Option(help: "The daemon's data directory (its LMDB journal).")
    var data: String
    @Option(help: "Apply events up to and including this seq only.")
    var until: UInt64?
    @Option(help: "Print this workflow as `status` would.")
    var workflow: String?
    @Flag(help: "Check the rebuild (see above).")
    var verify = false
    @Option(help: "With --verify, also compare with the daemon at HOST:PORT.")
    var server: String?
    @Option(help: "A file holding the daemon's token (with --server).")
    var tokenFile: String?
    @Flag(help: "Print JSON records instead of text.")
    var json = false

    func run() async throws {
        let store = try JournalReplay.open(data)
        let replay = try JournalReplay(store: store, until: until)
        var workflows = replay.workflows
        if let workflow {
            guard let found = replay.coordinator.state.workflows[WorkflowID(workflow)] else {
                throw ToolError("no workflow \(workflow) in the journal at \(data) (through seq \(replay.lastSeq))")
            }
            workflows = [found]
        }
        if verify {
            try await runVerification(workflows, store: store, replay: replay)
            return
        }
        print(render(workflows, replay: replay))
    }

    private func render(_ workflows: [Workflow], replay: JournalReplay) -> String {
        let records = workflows.map(JournalReplay.record)
        if json {
            if workflow != nil, let record = records.first { return record.description }
            return JSON.object([
                "last_seq": .int(Int64(replay.lastSeq)), "events": .int(Int64(replay.events)),
                "workflows": .array(records),
            ]).description
        }
        let now = replay.lastTime?.milliseconds
        if workflow != nil, let record = records.first, let view = try? WorkflowView(json: record) {
            return StatusReport(workflow: view, now: now).rendered
        }
        let range = replay.firstSeq.map { "seq \($0) to \(replay.lastSeq)" } ?? "no events"
        let views = records.compactMap { try? WorkflowView(json: $0) }
        return "Replayed \(replay.events) events (\(range)) from \(data)\n\n"
            + WorkflowListTable(workflows: views, now: now).rendered
    }

    private func runVerification(_ workflows: [Workflow], store: JournalStore, replay: JournalReplay) async throws {
        var problems: [String] = []
        for workflow in workflows {
            let alone = try JournalReplay.workflow(workflow.id.rawValue, store: store, until: replay.lastSeq)
            if alone.map(JournalReplay.record) != JournalReplay.record(workflow) {
                problems.append("\(workflow.id.rawValue): the full scan and its own records rebuild it differently")
            }
        }
        var lines = ["index: \(workflows.count) workflows rebuilt from the full scan and from their own records"]
        if let server {
            guard until == nil else {
                throw ToolError("--verify with --server compares the whole journal; drop --until")
            }
            let live = try await LiveVerification(server: server, tokenFile: tokenFile, store: store)
                .compare(workflows.map(\.id.rawValue))
            lines.append("live: \(live.compared) workflows compared with the daemon at \(server)")
            problems += live.problems
        } else {
            lines.append("live: not checked (no --server given)")
        }
        lines.append(
            problems.isEmpty
                ? "verified: no differences (through seq \(replay.lastSeq))"
                : "MISMATCH: \(problems.count) difference(s)"
        )
        lines += problems.map { "  " + $0 }
        print(lines.joined(separator: "\n"))
        if !problems.isEmpty { throw ExitCode(1) }
    }
}
