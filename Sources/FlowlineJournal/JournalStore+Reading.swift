internal import FlowlineLMDB

/// The last checkpoint as stored: its globals record and every workflow snapshot, undecoded.
public struct CheckpointRecords {
    /// The globals record (`SnapshotCodec.decodeGlobals` gives the seq it includes).
    public var globals: [UInt8]
    /// One record per workflow (`SnapshotCodec.decodeWorkflow`).
    public var snapshots: [[UInt8]]
}

extension JournalStore {
    /// Reads the last checkpoint (`nil` when none was written) and then the records from the seq `start`
    /// returns, until `body` returns `false`, all in ONE read transaction: a reader beside a running daemon sees
    /// a checkpoint and exactly the records it was written with (the daemon commits both in one transaction).
    /// Rethrows the closures' errors as they are; storage failures throw `JournalError`.
    public func readCheckpointAndRecords(
        _ start: (CheckpointRecords?) throws -> UInt64,
        records body: (UInt64, [UInt8]) throws -> Bool
    ) throws {
        do {
            try environment.read { txn in
                var checkpoint: CheckpointRecords?
                if let globals = try txn.get(Self.checkpointKey, in: meta) {
                    var snapshots: [[UInt8]] = []
                    try txn.forEach(in: self.snapshots) { _, value in
                        snapshots.append(value)
                        return true
                    }
                    checkpoint = CheckpointRecords(globals: globals, snapshots: snapshots)
                }
                let from = try start(checkpoint)
                try txn.forEach(in: events, from: JournalKey.seq(from)) { key, value in
                    guard let seq = JournalKey.seq(decoding: key) else {
                        throw JournalError(.corrupt, "a malformed key in events in \(directory)")
                    }
                    return try body(seq, value)
                }
            }
        } catch let error as LMDBError {
            throw JournalError(error)
        }
    }
}
