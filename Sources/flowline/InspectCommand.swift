import ArgumentParser
import FlowlineCore
import FlowlineJournal
import FlowlineProtocol

/// `flowline inspect --data DIR`: journal facts, read straight from LMDB while the daemon may run.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show journal facts: size, events, seqs, workflows by state.",
        discussion: """
            Opens the data directory read-only, in read transactions, so it works while flowlined runs and \
            writes. The workflow counts come from rebuilding the state as the daemon recovers it: the last \
            checkpoint's snapshots plus the events after it (--from-scratch: every event from seq 1), with the \
            daemon's own core code. Shows the checkpoint's seq and how many workflow snapshots it holds. \
            Compacted workflows are gone from both the journal and the counts.
            """
    )

    @Option(help: "The daemon's data directory (its LMDB journal).")
    var data: String
    @Flag(help: "Ignore the checkpoint: apply every event from seq 1.")
    var fromScratch = false
    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func run() throws {
        let store = try JournalReplay.open(data)
        let replay = try JournalReplay(store: store, usesCheckpoint: !fromScratch)
        let stats: JournalStats
        do {
            stats = try store.stats()
        } catch {
            throw ToolError.journal(error, directory: data)
        }
        let facts = InspectFacts(directory: data, stats: stats, replay: replay)
        print(json ? facts.json.description : facts.rendered)
    }
}

/// What `inspect` reports.
struct InspectFacts {
    var directory: String
    var stats: JournalStats
    var replayedThrough: UInt64
    /// The journal's checkpoint (used or not) and how the rebuild started.
    var checkpoint: JournalReplay.Start?
    var origin: String
    var byState: [(String, Int)]
    var oldestRunning: Workflow?

    init(directory: String, stats: JournalStats, replay: JournalReplay) {
        self.directory = directory
        self.stats = stats
        replayedThrough = replay.lastSeq
        checkpoint = replay.checkpoint
        origin = replay.origin
        let workflows = replay.workflows
        byState = WorkflowState.allCases.map { state in (state.rawValue, workflows.count { $0.state == state }) }
        oldestRunning = workflows.filter { !$0.state.isTerminal }.min { $0.createdAt < $1.createdAt }
    }

    var rendered: String {
        var fields = Fields()
        fields.add("Journal", directory)
        fields.add("File size", Self.bytes(stats.fileBytes))
        fields.add("Map size", Self.bytes(stats.mapBytes))
        let range = stats.firstSeq.map { "seq \($0) to \(stats.lastSeq)" } ?? "none"
        fields.add("Events", "\(stats.events) (\(range))")
        fields.add("Last seq", String(stats.lastSeq))
        let total = byState.reduce(0) { $0 + $1.1 }
        let counts = byState.filter { $0.1 > 0 }.map { "\($0.1) \($0.0)" }.joined(separator: ", ")
        fields.add("Workflows", total == 0 ? "0" : "\(total): \(counts)")
        fields.add(
            "Checkpoint",
            checkpoint.map { "seq \($0.seq), \($0.snapshots) workflow snapshots" } ?? "none"
        )
        fields.add("Replayed", "through seq \(replayedThrough): \(origin)")
        if let w = oldestRunning {
            let age = TimeText.duration(TimeText.now() - w.createdAt.milliseconds)
            fields.add(
                "Oldest running",
                "\(w.id.rawValue) (\(w.name), \(w.state.rawValue)), created "
                    + "\(TimeText.dateTime(w.createdAt.milliseconds)) UTC, \(age) ago"
            )
        } else {
            fields.add("Oldest running", "none")
        }
        return fields.rendered
    }

    var json: JSON {
        var states: JSONObject = [:]
        for (state, count) in byState { states[state] = .int(Int64(count)) }
        var oldest: JSON = .null
        if let w = oldestRunning {
            oldest = [
                "workflow_id": .string(w.id.rawValue), "name": .string(w.name), "state": .string(w.state.rawValue),
                "created_at": .string(w.createdAt.rfc3339),
            ]
        }
        return [
            "data": .string(directory), "file_bytes": .int(Int64(stats.fileBytes)),
            "map_bytes": .int(Int64(stats.mapBytes)), "events": .int(Int64(stats.events)),
            "first_seq": stats.firstSeq.map { .int(Int64($0)) } ?? .null, "last_seq": .int(Int64(stats.lastSeq)),
            "replayed_through": .int(Int64(replayedThrough)), "workflows": .object(states),
            "checkpoint": checkpoint.map { ["seq": .int(Int64($0.seq)), "snapshots": .int(Int64($0.snapshots))] }
                ?? .null,
            "oldest_running": oldest,
        ]
    }

    /// `1.5 MiB (1572864 bytes)`.
    static func bytes(_ n: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(n)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let tenths = Int((value * 10).rounded())
        return unit == 0 ? "\(n) B" : "\(tenths / 10).\(tenths % 10) \(units[unit]) (\(n) bytes)"
    }
}
