import FlowlineCore
import FlowlineJournal

/// A journal in memory whose commits complete only when the test says so, in order: the shape of a journal on a
/// network database (issue #21), to check the `Journal` contract apart from LMDB. Tests only; the product journals
/// to LMDB.
final class MemoryJournal: Journal {
    private struct InFlight {
        var events: [Event]
        var checkpoint: (globals: CheckpointGlobals, workflows: [Workflow])?
        var completion: (Result<CommitReceipt, JournalError>) -> Void
    }

    /// Committed and completed: what a restart finds.
    private(set) var records: [(seq: UInt64, event: Event)] = []
    private var checkpoint: (seq: UInt64, globals: CheckpointGlobals, workflows: [Workflow])?
    private var appended: [Event] = []
    private var inFlight: [InFlight] = []
    private var tracker = CheckpointTracker()

    private(set) var lastSeq: UInt64 = 0
    private(set) var commits: UInt64 = 0
    var eventsSinceCheckpoint: Int { tracker.eventsSinceCheckpoint }
    var hasUncheckpointedChanges: Bool { tracker.hasChanges }
    var isDurable: Bool { true }
    /// Commits made and not completed yet.
    var pending: Int { inFlight.count }

    func append(_ events: inout [Event]) {
        for event in events { tracker.note(event) }
        appended += events
        events.removeAll(keepingCapacity: true)
    }

    func commit(
        checkpointing state: CoordinatorState?,
        durable: Bool,
        completion: @escaping (Result<CommitReceipt, JournalError>) -> Void
    ) {
        let snapshot = state.map { state in
            (globals: state.globals, workflows: state.order.compactMap { id in state.workflows[id] })
        }
        inFlight.append(InFlight(events: appended, checkpoint: snapshot, completion: completion))
        appended = []
    }

    /// Completes the oldest `count` commits in flight (all when `nil`), in order.
    func complete(_ count: Int? = nil) {
        let done = inFlight.prefix(count ?? inFlight.count)
        inFlight.removeFirst(done.count)
        for commit in done {
            let first = lastSeq + 1
            for event in commit.events {
                lastSeq += 1
                records.append((lastSeq, event))
            }
            commits += 1
            tracker.committed(commit.events.count)
            if let (globals, workflows) = commit.checkpoint {
                checkpoint = (lastSeq, globals, workflows)
                tracker.checkpointed()
            }
            let receipt = CommitReceipt(
                firstSeq: commit.events.isEmpty ? nil : first,
                lastSeq: lastSeq,
                records: commit.events.count,
                checkpointed: commit.checkpoint != nil
            )
            commit.completion(.success(receipt))
        }
    }

    func recover(into coordinator: inout Coordinator) throws(JournalError) -> Recovery {
        appended = []
        var recovery = Recovery()
        let (retention, kept) = (coordinator.futureRetention, coordinator.maxKeptFutures)
        coordinator = Coordinator(futureRetention: retention)
        if let checkpoint {
            coordinator = Coordinator(
                state: CoordinatorState(globals: checkpoint.globals, workflows: checkpoint.workflows),
                futureRetention: retention
            )
            recovery.checkpoint = Recovery.Checkpoint(seq: checkpoint.seq, snapshots: checkpoint.workflows.count)
            recovery.usedCheckpoint = true
            recovery.lastSeq = checkpoint.seq
        }
        coordinator.maxKeptFutures = kept
        var changes = CheckpointTracker()
        for (seq, event) in records where seq > (checkpoint?.seq ?? 0) {
            coordinator.replay(event)
            if checkpoint != nil { changes.note(event) }
            recovery.events += 1
            recovery.firstSeq = recovery.firstSeq ?? seq
            recovery.lastSeq = seq
            recovery.lastEventTime = event.time
        }
        if checkpoint != nil {
            changes.committed(recovery.events)
        } else {
            changes.replayedFromStart(recovery.events, workflows: coordinator.state.workflows.count)
        }
        tracker = changes
        recovery.changes = changes
        return recovery
    }

    func history(of id: WorkflowID) throws(JournalError) -> [(seq: UInt64, event: Event)] {
        records.filter { $0.event.workflowID == id }
    }

    func stats() throws(JournalError) -> JournalStats {
        JournalStats(
            fileBytes: 0,
            mapBytes: 0,
            events: records.count,
            firstSeq: records.first?.seq,
            lastSeq: lastSeq,
            commits: commits
        )
    }

    func hasRoom(for bytes: Int) -> Bool { true }

    func makeDurable() throws(JournalError) {}
}
