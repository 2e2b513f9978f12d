internal import Dispatch
public import FlowlineCore
internal import FlowlineLMDB
internal import Synchronization

/// One group commit: the turn's records and, when a checkpoint is due, the snapshots, globals and purges that go
/// with them, all in one transaction.
public struct JournalBatch {
    public var records: [(workflowID: String, bytes: [UInt8])] = []
    /// Workflow snapshots to store (bytes) or drop (nil).
    public var snapshots: [(workflowID: String, bytes: [UInt8]?)] = []
    /// The checkpoint's globals, written last; recovery starts from it.
    public var checkpoint: [UInt8]?
    /// Workflows whose records and index entries are deleted (compaction).
    public var purge: [String] = []

    public init() {}

    public var isEmpty: Bool { records.isEmpty && snapshots.isEmpty && checkpoint == nil && purge.isEmpty }
}

extension JournalStore {
    static let checkpointKey = Array("checkpoint".utf8)

    /// Commits `batch` in one write transaction, growing the map once if it is full. Returns the first seq given
    /// to its records (nil when it has none). Nothing of a failed batch is written.
    ///
    /// With `SyncMode.full`, a commit syncs its data pages, which also puts the previous commit's meta page on
    /// disk: when it returns, every earlier commit is durable. Its own meta page is synced before it returns only
    /// when `durable`; otherwise `isDurable` is false until `makeDurable()` or the next commit. Commits back to back
    /// thus cost one sync each instead of two (the daemon's chain of steps, `Daemon.endTurn`).
    @discardableResult
    public func commit(_ batch: JournalBatch, durable: Bool = true) throws(JournalError) -> UInt64? {
        guard !batch.isEmpty else { return nil }
        precondition(!isReadOnly, "JournalStore.commit on the read-only journal at \(directory)")
        let first = lastSeq + 1
        let maxKeySize = environment.maxKeySize
        // A purge walks the index, so it needs every entry; a checkpoint is a good time to catch up.
        let deferring = batch.purge.isEmpty && batch.checkpoint == nil && mayDeferIndex(of: batch.records.count)
        do throws(LMDBError) {
            try growingMap { () throws(LMDBError) in
                try lmdbWrite(reserving: reserve(batch)) { txn in
                    try putRecords(batch.records, from: first, in: txn, deferringIndex: deferring)
                    try purge(batch.purge, in: txn, maxKeySize: maxKeySize)
                    for (id, bytes) in batch.snapshots {
                        let key = JournalKey.snapshot(id, maxKeySize: maxKeySize)
                        if let bytes {
                            try txn.put(bytes, for: key, in: snapshots)
                        } else {
                            _ = try txn.delete(key, in: snapshots)
                        }
                    }
                    if let checkpoint = batch.checkpoint { try txn.put(checkpoint, for: Self.checkpointKey, in: meta) }
                }
            }
        } catch {
            throw JournalError(error)
        }
        didPutRecords(batch.records, from: first, deferringIndex: deferring)
        didCommit(lastSeq: first - 1 + UInt64(batch.records.count))
        // LMDB neither writes nor syncs a transaction that changed nothing, which a purge alone may be.
        try didCommit(durable: durable || (batch.records.isEmpty && batch.snapshots.isEmpty))
        return batch.records.isEmpty ? nil : first
    }

    /// The last checkpoint's globals record, if one was written.
    public func checkpoint() throws(JournalError) -> [UInt8]? { try meta("checkpoint") }

    /// Calls `body` with every workflow snapshot, in one read transaction.
    public func forEachSnapshot(_ body: ([UInt8]) throws -> Void) throws {
        do {
            try environment.read { txn in
                try txn.forEach(in: snapshots) { _, value in
                    try body(value)
                    return true
                }
            }
        } catch let error as LMDBError {
            throw JournalError(error)
        }
    }

    /// Every workflow snapshot, decoded, in key order. The bytes are copied out in one read transaction, then
    /// decoded as `decodeSnapshots` does.
    public func snapshotWorkflows() throws -> [Workflow] {
        var read: [[UInt8]] = []
        try forEachSnapshot { read.append($0) }
        return try Self.decodeSnapshots(read)
    }

    /// Decodes workflow snapshots, in a few shares at once: decoding is most of the work of a start from a
    /// checkpoint.
    static func decodeSnapshots(_ snapshots: [[UInt8]]) throws(JournalError) -> [Workflow] {
        let count = snapshots.count
        let shares = count < 4096 ? 1 : 4
        let decoded = Mutex<[Result<[Workflow], JournalError>?]>(Array(repeating: nil, count: shares))
        DispatchQueue.concurrentPerform(iterations: shares) { share in
            let range = count * share / shares..<count * (share + 1) / shares
            let result = Result { () throws(JournalError) in
                var workflows: [Workflow] = []
                workflows.reserveCapacity(range.count)
                for bytes in snapshots[range] { workflows.append(try SnapshotCodec.decodeWorkflow(bytes)) }
                return workflows
            }
            decoded.withLock { $0[share] = result }
        }
        var workflows: [Workflow] = []
        workflows.reserveCapacity(count)
        for case let result? in decoded.withLock({ $0 }) { workflows += try result.get() }
        return workflows
    }

    /// Deletes the workflows' index entries through the cursor that finds them, then their records in seq order
    /// through one cursor: both skip most of the B-tree searches a delete per key makes.
    private func purge(_ ids: [String], in txn: borrowing WriteTransaction, maxKeySize: Int) throws {
        guard !ids.isEmpty else { return }
        var doomed: [UInt64] = []
        for id in ids {
            let workflow = JournalKey.Workflow(id, maxKeySize: maxKeySize)
            try txn.forEach(in: byWorkflow, from: workflow.prefix) { key, value in
                guard key.starts(with: workflow.prefix) else { return .stop }
                guard let seq = workflow.seq(ofKey: key, value: value) else { return .keep }
                doomed.append(seq)
                return .delete
            }
        }
        doomed.sort()
        try txn.delete(bigEndianKeys: doomed, in: events)
    }

    /// What committing `batch` may add to the data file (`Environment.write(reserving:)`). A purge copies the
    /// pages it deletes from, how many is not known before it runs: at most every page in use.
    private func reserve(_ batch: JournalBatch) -> Int {
        var bytes = Self.reserve(records: batch.records) + 2 * (batch.checkpoint?.count ?? 0)
        for snapshot in batch.snapshots { bytes += 2 * (snapshot.bytes?.count ?? 0) + 128 }
        if !batch.purge.isEmpty { bytes += environment.usedSize }
        return bytes
    }

    private func lmdbWrite(
        reserving: Int,
        _ body: (borrowing WriteTransaction) throws -> Void
    ) throws(LMDBError) {
        do {
            try environment.write(reserving: reserving, body)
        } catch let error as LMDBError {
            throw error
        } catch {
            preconditionFailure("a journal write threw \(error)")
        }
    }
}

extension JournalKey {
    /// A snapshot's key: the workflow id's UTF-8, cut to fit an LMDB key (ids that long are refused at submit).
    static func snapshot(_ id: String, maxKeySize: Int) -> [UInt8] { Array(Array(id.utf8).prefix(maxKeySize)) }
}
