import FlowlineCore
import FlowlineJournal
import FlowlineProtocol

/// The coordinator state rebuilt offline from a journal by the daemon's own recovery routine (`Recovery`): the
/// last checkpoint's snapshots and globals, then the events after it (or every event, from scratch). It reads in
/// one read-only LMDB read transaction, so it is one consistent snapshot while the daemon writes.
struct JournalReplay {
    /// The checkpoint a rebuild started from.
    struct Start {
        /// The last seq the checkpoint includes.
        var seq: UInt64
        /// The workflow snapshots it held.
        var snapshots: Int
    }

    var coordinator = Coordinator()
    /// Events applied (after the checkpoint, when one was used).
    var events = 0
    /// The first and last seq applied; `nil` and 0 for none (`lastSeq` is at least the checkpoint's seq).
    var firstSeq: UInt64?
    var lastSeq: UInt64 = 0
    /// The time of the last event applied (or the latest time in the checkpoint): how far the state reaches.
    var lastTime: Instant?
    /// The checkpoint the rebuild started from; `nil` when it replayed from scratch.
    var start: Start?
    /// The journal's checkpoint, used or not.
    var checkpoint: Start?
    /// Why a checkpoint present was not used, when it was not.
    var fromScratchReason: String?

    /// Opens `directory` read-only. The daemon may have it open and be writing.
    static func open(_ directory: String) throws(ToolError) -> JournalStore {
        do {
            return try JournalStore(directory: directory, sync: .none, readOnly: true)
        } catch {
            throw ToolError.journal(error, directory: directory)
        }
    }

    /// Rebuilds through seq `until` (everything when `nil`): from the checkpoint when `usesCheckpoint` and the
    /// checkpoint does not reach past `until`, else from seq 1.
    init(store: JournalStore, until: UInt64? = nil, usesCheckpoint: Bool = true) throws(ToolError) {
        // Future retention only matters to `handle`; a replay only applies.
        coordinator = Coordinator(futureRetention: .zero)
        let recovery: Recovery
        do {
            recovery = try Recovery.run(
                store,
                into: &coordinator,
                options: Recovery.Options(usesCheckpoint: usesCheckpoint, limit: until.map { .seq($0) } ?? .end)
            )
        } catch {
            throw ToolError.journal(error, directory: store.directory)
        }
        events = recovery.events
        firstSeq = recovery.firstSeq
        lastSeq = recovery.lastSeq
        checkpoint = recovery.checkpoint.map { Start(seq: $0.seq, snapshots: $0.snapshots) }
        if recovery.usedCheckpoint {
            start = checkpoint
        } else if let checkpoint {
            fromScratchReason =
                usesCheckpoint
                ? "--until \(until ?? 0) is before the checkpoint at seq \(checkpoint.seq)" : "--from-scratch"
        }
        // Without events after the checkpoint, the state is the checkpoint's: its latest time is how far it reaches.
        lastTime =
            recovery.lastEventTime ?? coordinator.state.workflows.values.compactMap(\.latestTime).max()
    }

    /// Decodes record `seq`, or names it in the error.
    static func decode(_ seq: UInt64, _ bytes: [UInt8], store: JournalStore) throws(ToolError) -> Event {
        do {
            return try EventCodec.decode(bytes)
        } catch {
            throw ToolError("cannot decode journal record \(seq) in \(store.directory): \(error)")
        }
    }

    /// Runs a read, turning storage and codec failures into one line naming the directory.
    static func reading(_ store: JournalStore, _ body: () throws -> Void) throws(ToolError) {
        do {
            try body()
        } catch let error as ToolError {
            throw error
        } catch {
            throw ToolError.journal(error, directory: store.directory)
        }
    }

    /// Rebuilds one workflow from its own records only (the `by_workflow` index `history` reads), independently
    /// of the full scan and of the checkpoint.
    static func workflow(_ id: String, store: JournalStore, until: UInt64? = nil) throws(ToolError) -> Workflow? {
        try workflows([id], store: store, until: until)[0]
    }

    /// `workflow(_:store:until:)` for each of `ids`, reading their records together.
    static func workflows(_ ids: [String], store: JournalStore, until: UInt64? = nil) throws(ToolError) -> [Workflow?] {
        do {
            return try zip(ids, store.records(ofWorkflows: ids)).map { id, records in
                var coordinator = Coordinator()
                for record in records where until.map({ record.seq <= $0 }) ?? true {
                    coordinator.apply(try EventCodec.decode(record.bytes))
                }
                return coordinator.state.workflows[WorkflowID(id)]
            }
        } catch {
            throw ToolError.journal(error, directory: store.directory)
        }
    }

    /// The workflows in submission order.
    var workflows: [Workflow] { coordinator.state.order.compactMap { coordinator.state.workflows[$0] } }

    /// Where the rebuild started, for people: `checkpoint at seq 12 (3 snapshots) + 4 events (seq 13 to 16)`.
    var origin: String {
        let range = firstSeq.map { "seq \($0) to \(lastSeq)" } ?? "none"
        guard let start else {
            let why = fromScratchReason.map { " (\($0); the checkpoint is not used)" } ?? ""
            return "\(events) events (\(range)) from scratch\(why)"
        }
        return "checkpoint at seq \(start.seq) (\(start.snapshots) snapshots) + \(events) events after it (\(range))"
    }

    /// The SPEC record of a rebuilt workflow, exactly as the daemon's `workflow.get` writes it.
    static func record(_ workflow: Workflow) -> JSON {
        var writer = JSONWriter()
        writer.workflow(workflow)
        // The writer's output always parses; a failure would be a bug in JSONWriter. Payloads are built like the
        // rest, as a client reading the daemon's record builds them, unless one holds a number no Double holds
        // (`1e400`): then they are kept as text.
        guard
            let json = (try? JSONParser.parse(writer.bytes))
                ?? (try? JSONParser.parse(writer.bytes, keepingPayloadsFrom: 1))
        else {
            preconditionFailure("JSONWriter.workflow wrote invalid JSON for \(workflow.id)")
        }
        return json
    }
}

extension Workflow {
    /// The latest time the workflow records: the state's reach when it comes from a snapshot.
    var latestTime: Instant? {
        let taskTimes = tasks.flatMap { [$0.scheduledAt, $0.startedAt, $0.finishedAt].compactMap { $0 } }
        return ([createdAt, finishedAt].compactMap { $0 } + taskTimes).max()
    }
}
