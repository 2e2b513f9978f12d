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
            Rebuilds the state the way the daemon recovers it: from the last checkpoint (the workflow snapshots \
            and globals the daemon writes every --checkpoint-events events, every --checkpoint-interval and at \
            shutdown) plus the events after it, applied with the same core code (Coordinator.apply). \
            --from-scratch ignores the checkpoint and applies every event still in the journal; --until SEQ \
            before the checkpoint's seq replays from scratch too, and says so. The data directory is opened \
            read-only, in one read transaction (the daemon may be running). Prints the workflows as `list` \
            would, or one workflow as `status` would.

            --verify runs three checks and exits 1 when any finds a difference:

            checkpoint: the events from seq 1 through the checkpoint's seq, replayed from scratch, must rebuild \
            each workflow exactly as the checkpoint's snapshot of it, field by field (tasks included), and the \
            same key waiters and kept futures. Compaction deletes all records of the workflows it removes, so a \
            replay from scratch legitimately counts fewer submissions, completions, leases and queue tickets: \
            those counters are NOT compared, and the fields numbered by them (a workflow's number, a task's \
            completion order and queue ticket) are compared by the order they give, not by value. A workflow \
            the checkpoint holds but an event after it compacted is skipped (its records are gone). Events \
            after the checkpoint are not in it, and not compared with it.

            index: every workflow rebuilt (as above, or with --from-scratch) must equal the same workflow \
            rebuilt from its own records alone (the by_workflow index that `history` reads), as records.

            live, when --server is given: every rebuilt workflow must equal the running daemon's workflow.get \
            record (retried a few times for workflows still moving).
            """
    )

    @Option(help: "The daemon's data directory (its LMDB journal).")
    var data: String
    @Option(help: "Apply events up to and including this seq only.")
    var until: UInt64?
    @Option(help: "Print this workflow as `status` would.")
    var workflow: String?
    @Flag(help: "Ignore the checkpoint: apply every event from seq 1.")
    var fromScratch = false
    @Flag(help: "Check the rebuild against the checkpoint, the index and, with --server, the daemon (see above).")
    var verify = false
    @Option(help: "With --verify, also compare with the daemon at HOST:PORT.")
    var server: String?
    @Option(help: "A file holding the daemon's token (with --server).")
    var tokenFile: String?
    @Flag(help: "Print JSON records instead of text.")
    var json = false

    func run() async throws {
        let store = try JournalReplay.open(data)
        let replay = try JournalReplay(store: store, until: until, usesCheckpoint: !fromScratch)
        if let reason = replay.fromScratchReason, reason != "--from-scratch" {
            FlowlineTool.printError("note: \(reason): replayed from scratch")
        }
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
                "checkpoint_seq": replay.start.map { .int(Int64($0.seq)) } ?? .null,
                "workflows": .array(records),
            ]).description
        }
        let now = replay.lastTime?.milliseconds
        if workflow != nil, let record = records.first, let view = try? WorkflowView(json: record) {
            return StatusReport(workflow: view, now: now).rendered
        }
        let views = records.compactMap { try? WorkflowView(json: $0) }
        return "Replayed \(replay.origin) from \(data)\n\n"
            + WorkflowListTable(workflows: views, now: now).rendered
    }

    private func runVerification(_ workflows: [Workflow], store: JournalStore, replay: JournalReplay) async throws {
        var problems: [String] = []
        var lines: [String] = []
        let check = try CheckpointVerification.run(store: store, only: workflow.map(WorkflowID.init))
        lines.append(check?.summary ?? "checkpoint: none written yet, nothing to compare")
        problems += check?.problems ?? []
        problems += try indexProblems(workflows, store: store, through: replay.lastSeq)
        lines.append("index: \(workflows.count) workflows rebuilt (\(replay.origin)) and from their own records")
        if let server {
            guard until == nil else {
                throw ToolError("--verify with --server compares the whole journal; drop --until")
            }
            let live = try await LiveVerification(
                server: server,
                tokenFile: tokenFile,
                store: store,
                usesCheckpoint: !fromScratch
            ).compare(workflows.map(\.id.rawValue))
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

    /// Each workflow rebuilt must equal the same workflow rebuilt from its own records (the by_workflow index).
    private func indexProblems(_ workflows: [Workflow], store: JournalStore, through seq: UInt64) throws -> [String] {
        var problems: [String] = []
        // In groups, so that the journal's unindexed tail is read once per group rather than once per workflow.
        for start in stride(from: 0, to: workflows.count, by: 512) {
            let group = workflows[start..<min(start + 512, workflows.count)]
            let rebuilt = try JournalReplay.workflows(group.map(\.id.rawValue), store: store, until: seq)
            for (workflow, alone) in zip(group, rebuilt) {
                // A finished workflow compacted by the running daemon after the rebuild's read has no records left.
                if alone == nil && workflow.state.isTerminal { continue }
                if alone.map(JournalReplay.record) != JournalReplay.record(workflow) {
                    problems.append("\(workflow.id.rawValue): the rebuild and its own records rebuild it differently")
                }
            }
        }
        return problems
    }
}
