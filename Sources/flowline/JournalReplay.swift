import FlowlineCore
import FlowlineJournal
import FlowlineProtocol

/// The coordinator state rebuilt offline from a journal, with the same `Coordinator.apply` the daemon's
/// recovery uses, in one read-only LMDB read transaction (so it is one consistent snapshot while the daemon
/// writes).
struct JournalReplay {
    var coordinator = Coordinator()
    /// Events applied.
    var events = 0
    /// The first and last seq applied; `nil` and 0 for none.
    var firstSeq: UInt64?
    var lastSeq: UInt64 = 0
    /// The time of the last event applied: how far the rebuilt state reaches.
    var lastTime: Instant?

    /// Opens `directory` read-only. The daemon may have it open and be writing.
    static func open(_ directory: String) throws(ToolError) -> JournalStore {
        do {
            return try JournalStore(directory: directory, sync: .none, readOnly: true)
        } catch {
            throw ToolError.journal(error, directory: directory)
        }
    }

    /// Applies every event with seq ≤ `until` (all when `nil`).
    init(store: JournalStore, until: UInt64? = nil) throws(ToolError) {
        var replay = JournalReplay(empty: ())
        do {
            try store.scan { seq, bytes in
                if let until, seq > until { return false }
                let event: Event
                do {
                    event = try EventCodec.decode(bytes)
                } catch {
                    throw ToolError("cannot decode journal record \(seq) in \(store.directory): \(error)")
                }
                replay.coordinator.apply(event)
                replay.events += 1
                replay.firstSeq = replay.firstSeq ?? seq
                replay.lastSeq = seq
                replay.lastTime = event.time
                return true
            }
        } catch let error as ToolError {
            throw error
        } catch {
            throw ToolError.journal(error, directory: store.directory)
        }
        self = replay
    }

    /// Rebuilds one workflow from its own records only (the `by_workflow` index `history` reads), independently
    /// of the full scan.
    static func workflow(_ id: String, store: JournalStore, until: UInt64? = nil) throws(ToolError) -> Workflow? {
        var coordinator = Coordinator()
        do {
            for record in try store.records(ofWorkflow: id) where until.map({ record.seq <= $0 }) ?? true {
                coordinator.apply(try EventCodec.decode(record.bytes))
            }
        } catch {
            throw ToolError.journal(error, directory: store.directory)
        }
        return coordinator.state.workflows[WorkflowID(id)]
    }

    private init(empty: ()) {}

    /// The workflows in submission order.
    var workflows: [Workflow] { coordinator.state.order.compactMap { coordinator.state.workflows[$0] } }

    /// The SPEC record of a rebuilt workflow, exactly as the daemon's `workflow.get` writes it.
    static func record(_ workflow: Workflow) -> JSON {
        var writer = JSONWriter()
        writer.workflow(workflow)
        // The writer's output always parses; a failure would be a bug in JSONWriter.
        guard let json = try? JSONParser.parse(writer.bytes) else {
            preconditionFailure("JSONWriter.workflow wrote invalid JSON for \(workflow.id)")
        }
        return json
    }
}
