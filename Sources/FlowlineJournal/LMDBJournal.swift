public import FlowlineCore

/// The embedded journal: events in LMDB through a `JournalStore`, one write transaction per commit, completed
/// before `commit` returns.
///
/// It encodes the events it is given (`EventCodec`), tracks the workflows changed since the last checkpoint
/// (`CheckpointTracker`), writes checkpoints (`SnapshotCodec`) and recovers with `Recovery`. With `SyncMode.full` a
/// commit syncs its data pages before it completes but leaves its meta page to the next commit or `makeDurable`
/// (`isDurable`; `JournalStore.commit(_:durable:)`).
public final class LMDBJournal: Journal {
    /// The store underneath (byte records, checkpoints, the index).
    public let store: JournalStore
    /// The settings it was opened with.
    public let configuration: LMDBJournalConfiguration
    /// What was appended and not committed yet.
    private var pending = JournalBatch()
    private var tracker = CheckpointTracker()

    /// Opens (or creates) the journal `configuration` describes, for writing.
    ///
    /// - Throws: `JournalError` as `JournalStore.init` does (`.inUse` when another daemon holds it, `.corrupt`,
    ///   `.unsupportedFormat`, `.storage`).
    public init(configuration: LMDBJournalConfiguration) throws(JournalError) {
        self.configuration = configuration
        store = try JournalStore(
            directory: configuration.directory,
            sync: configuration.sync,
            mapSize: min(configuration.mapSize, configuration.maxMapSize),
            maxMapSize: configuration.maxMapSize,
            exclusive: configuration.exclusive
        )
        store.indexDeferral = configuration.indexDeferral
    }

    public var lastSeq: UInt64 { store.lastSeq }
    public var commits: UInt64 { store.commits }
    public var eventsSinceCheckpoint: Int { tracker.eventsSinceCheckpoint }
    public var hasUncheckpointedChanges: Bool { tracker.hasChanges }
    public var isDurable: Bool { store.isDurable }

    /// Encodes `events` into the pending batch, with the workflows compaction purges. Each event is moved out of
    /// the list to be encoded, a payload-free one left in its place: a pass over the list copied every event (a
    /// retain per field), and emptying it destroyed them once more.
    public func append(_ events: inout [Event]) {
        // Taken out of the journal while they are filled: a stored property of a class is checked for exclusive
        // access at every mutation.
        var batch = pending
        pending = JournalBatch()
        var tracker = self.tracker
        defer {
            pending = batch
            self.tracker = tracker
        }
        batch.records.reserveCapacity(batch.records.count + events.count)
        for i in events.indices {
            var event = Event.workflowCompleted(WorkflowID(""), at: .zero)
            swap(&event, &events[i])
            batch.records.append((workflowID: event.workflowID.rawValue, bytes: EventCodec.encode(event)))
            if case .workflowsCompacted(let ids, _) = event { batch.purge += ids.map(\.rawValue) }
            tracker.note(event)
        }
        // What is left is placeholders; element by element, as removeAll(keepingCapacity:) goes through the generic
        // replaceSubrange.
        while !events.isEmpty { events.removeLast() }
    }

    public func commit(
        checkpointing state: CoordinatorState?,
        durable: Bool,
        completion: @escaping (Result<CommitReceipt, JournalError>) -> Void
    ) {
        var batch = pending
        pending = JournalBatch()
        let records = batch.records.count
        var checkpointed = state != nil
        if let state { addCheckpoint(of: state, to: &batch) }
        do throws(JournalError) {
            do {
                try store.commit(batch, durable: durable)
            } catch  where error.isOutOfSpace && checkpointed {
                // A checkpoint is large; the events alone may still fit. Commit them without it: the next
                // checkpoint writes what this one would have.
                batch.snapshots = []
                batch.checkpoint = nil
                checkpointed = false
                try store.commit(batch, durable: durable)
            }
        } catch {
            return completion(.failure(error))
        }
        tracker.committed(records)
        if checkpointed { tracker.checkpointed() }
        let last = store.lastSeq
        completion(
            .success(
                CommitReceipt(
                    firstSeq: records == 0 ? nil : last - UInt64(records) + 1,
                    lastSeq: last,
                    records: records,
                    checkpointed: checkpointed
                )
            )
        )
    }

    /// Snapshots of every workflow changed since the last checkpoint, and the globals as of the batch's last
    /// record.
    private func addCheckpoint(of state: CoordinatorState, to batch: inout JournalBatch) {
        let ids = tracker.toSnapshot(in: state.workflows)
        let snapshots = SnapshotCodec.encode(ids, of: state.workflows)
        batch.snapshots.reserveCapacity(batch.snapshots.count + ids.count)
        for (id, bytes) in zip(ids, snapshots) { batch.snapshots.append((id.rawValue, bytes)) }
        batch.checkpoint = SnapshotCodec.encode(state.globals, seq: store.lastSeq + UInt64(batch.records.count))
    }

    public func recover(into coordinator: inout Coordinator) throws(JournalError) -> Recovery {
        pending = JournalBatch()
        let recovery = try Recovery.run(store, into: &coordinator)
        tracker = recovery.changes
        return recovery
    }

    public func history(of id: WorkflowID) throws(JournalError) -> [(seq: UInt64, event: Event)] {
        try store.records(ofWorkflow: id.rawValue).map { record throws(JournalError) in
            (record.seq, try EventCodec.decode(record.bytes))
        }
    }

    public func stats() throws(JournalError) -> JournalStats { try store.stats() }

    public func hasRoom(for bytes: Int) -> Bool { store.hasRoom(for: bytes) }

    public func makeDurable() throws(JournalError) { try store.makeDurable() }
}
