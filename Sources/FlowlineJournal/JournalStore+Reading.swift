internal import Dispatch
public import FlowlineCore
internal import FlowlineLMDB
internal import Synchronization

/// The last checkpoint as stored: its globals record and every workflow snapshot, undecoded.
public struct CheckpointRecords {
    /// The globals record (`SnapshotCodec.decodeGlobals` gives the seq it includes).
    public var globals: [UInt8]
    /// One record per workflow (`SnapshotCodec.decodeWorkflow`).
    public var snapshots: [[UInt8]]
}

extension JournalStore {
    /// Recovery's read (`Recovery.run`), all in ONE read transaction, so that a reader beside a running daemon
    /// sees a checkpoint and exactly the records it was written with (the daemon commits both in one
    /// transaction): the last checkpoint (`nil` when none was written), given to `start`, which returns the seq to
    /// replay from and the last seq wanted (`nil`: all), or `nil` to read no record; then, when all are wanted,
    /// how many of those records submit a workflow (`sized`: recovery sizes its workflow table with it); then each
    /// record from that seq on as a `ReplayStep`, with its seq, as `replaySteps` gives them, until `body` returns
    /// `false`. Rethrows the closures' errors as they are; storage failures throw `JournalError`.
    func readForRecovery(
        start: (CheckpointRecords?) throws -> (from: UInt64, through: UInt64?)?,
        sized: (Int) -> Void,
        _ body: (UInt64, inout ReplayStep) throws -> Bool
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
                guard let (from, through) = try start(checkpoint) else { return }
                if through == nil {
                    // Two bytes per record, read in place: sizing the table once costs less than the doublings.
                    sized(
                        try txn.countValues(
                            in: events,
                            from: JournalKey.seq(from),
                            startingWith: EventCodec.workflowSubmittedPrefix
                        )
                    )
                }
                try pipelinedSteps(in: txn, from: from, through: through, body)
            }
        } catch let error as LMDBError {
            throw JournalError(error)
        }
    }
}

extension JournalStore {
    /// How many records from `seq` on are `Event.workflowSubmitted` (recovery sizes its workflow table with it),
    /// read from each record's first two bytes in place.
    public func countWorkflowsSubmitted(from seq: UInt64 = 1) throws(JournalError) -> Int {
        do {
            return try environment.read { txn in
                try txn.countValues(
                    in: events,
                    from: JournalKey.seq(seq),
                    startingWith: EventCodec.workflowSubmittedPrefix
                )
            }
        } catch let error as LMDBError {
            throw JournalError(error)
        } catch {
            preconditionFailure("counting records threw \(error)")
        }
    }

    /// Calls `body` with each event from `seq` on, in seq order, as a `ReplayStep`, until it returns `false`, in
    /// one read transaction. The records are read, decoded and made into steps on a second thread, up to four
    /// batches of 1,024 ahead of `body` (recovery folds while the next records are decoded), and the steps `body`
    /// is done with are destroyed there too. `body` gets each step in place (`Coordinator.replay` moves the built
    /// workflow out of it): no step is copied on the way. Throws `JournalError` for a record that does not decode
    /// (after `body` had every event before it) and for storage failures; rethrows `body`'s errors.
    public func replaySteps(from seq: UInt64 = 1, _ body: (inout ReplayStep) throws -> Bool) throws {
        do {
            try environment.read { txn in
                try pipelinedSteps(in: txn, from: seq, through: nil) { _, step in try body(&step) }
            }
        } catch let error as LMDBError {
            throw JournalError(error)
        }
    }

    /// `replaySteps` inside the read transaction `txn`, each step with its seq; the reading side stops after seq
    /// `through` when one is given.
    private func pipelinedSteps(
        in txn: borrowing ReadTransaction,
        from seq: UInt64,
        through: UInt64?,
        _ body: (UInt64, inout ReplayStep) throws -> Bool
    ) throws {
        let directory = self.directory
        let last = through ?? .max
        let pipe = StepPipe()
        let filling: @Sendable () -> StepPipe.Filling = { StepPipe.Filling() }
        try txn.forEachConcurrently(in: events, from: JournalKey.seq(seq), state: filling) {
            filling,
            key,
            value in
            guard key.count == 8 else {
                throw JournalError(.corrupt, "a key of \(key.count) bytes in events in \(directory)")
            }
            var seq: UInt64 = 0
            for i in 0..<8 { seq = seq << 8 | UInt64(key[i]) }
            guard seq <= last else { return false }
            return try pipe.add(seq, to: &filling) { (strings) throws(JournalError) in
                try EventCodec.decodeStep(value, strings: &strings)
            }
        } end: { filling, error in
            pipe.close(error, rest: &filling)
        } while: {
            defer { pipe.stop() }
            var spent: [ReplayStep] = []
            while var batch = try pipe.next(returning: spent) {
                for i in batch.steps.indices {
                    guard try body(batch.seqs[i], &batch.steps[i]) else { return }
                }
                spent = batch.steps.take()
            }
        }
    }
}

/// Replay steps on their way from the reading thread to the folding one, in batches of `batchSize`, at most four
/// batches ahead; spent batches go back to be destroyed on the reading thread, which allocated what they hold.
private final class StepPipe: Sendable {
    /// Steps and their seqs, side by side.
    struct Batch {
        var steps: [ReplayStep] = []
        var seqs: [UInt64] = []
    }

    private struct State {
        var batches: [Batch] = []
        var spent: [[ReplayStep]] = []
        var isClosed = false
        var error: JournalError?
        var isStopped = false
    }

    static let batchSize = 1024
    private let state = Mutex(State())
    /// Counts the batches to take, plus one for the end.
    private let ready = DispatchSemaphore(value: 0)
    /// Counts the free places for batches. Created at 0 and raised to 4 in `init`: libdispatch traps when a
    /// semaphore is freed with a value below the one it was created with ("deallocated while in use"), which a
    /// pipe whose folding side stopped or ended with batches unreturned is.
    private let room = DispatchSemaphore(value: 0)
    /// The batch being filled and the strings decoding keeps: the reading thread's own (`forEachConcurrently`
    /// keeps it there), so that adding a step takes no lock.
    struct Filling {
        var batch = Batch()
        var strings = StringTable.keeping()
    }

    init() {
        for _ in 0..<4 { room.signal() }
    }

    /// Reader: adds the step `make` makes (made in place in the batch, not copied into it) with the reader's
    /// strings, as record `seq`; `false` once the folding side stopped. Rethrows what `make` threw.
    func add(
        _ seq: UInt64,
        to filling: inout Filling,
        _ make: (inout StringTable) throws(JournalError) -> ReplayStep
    ) throws(JournalError) -> Bool {
        if filling.batch.steps.isEmpty {
            filling.batch.steps.reserveCapacity(Self.batchSize)
            filling.batch.seqs.reserveCapacity(Self.batchSize)
        }
        filling.batch.steps.append(try make(&filling.strings))
        filling.batch.seqs.append(seq)
        guard filling.batch.steps.count == Self.batchSize else { return true }
        return send(filling.batch.take())
    }

    /// Reader: sends what is left in `rest` and the end (`error`, or `nil` after the last record).
    func close(_ error: (any Error)?, rest filling: inout Filling) {
        let error: JournalError? =
            switch error {
            case nil: nil
            case let error as JournalError: error
            case let error as LMDBError: JournalError(error)
            case let error?: JournalError(.corrupt, "reading the journal failed: \(error)")
            }
        let rest = filling.batch.take()
        if !rest.steps.isEmpty { _ = send(rest) }
        state.withLock { state in
            guard !state.isClosed else { return }
            state.isClosed = true
            state.error = error
        }
        ready.signal()
    }

    /// Moves `batch` into the queue: were a reference left here, the folding side could find the batch shared
    /// and copy all of it when it first changes a step.
    private func send(_ batch: consuming Batch) -> Bool {
        if state.withLock({ $0.isStopped }) { return false }
        room.wait()
        var batch = consume batch
        let (stopped, spent) = state.withLock { state in
            if !state.isStopped { state.batches.append(batch.take()) }
            defer { state.spent = [] }
            return (state.isStopped, state.spent)
        }
        if !stopped { ready.signal() }
        // `spent` (the last references to those steps) is released here, on this thread.
        _ = spent
        return !stopped
    }

    /// Folding side: hands back the batch it is done with, then takes the next one (`nil` at the end); throws the
    /// reader's decoding error.
    func next(returning spent: consuming [ReplayStep]) throws(JournalError) -> Batch? {
        let spent = consume spent
        ready.wait()
        let (batch, error): (Batch?, JournalError?) = state.withLock { state in
            if !spent.isEmpty { state.spent.append(spent) }
            if !state.batches.isEmpty { return (state.batches.removeFirst(), nil) }
            return (nil, state.error)
        }
        if let batch {
            room.signal()
            return batch
        }
        if let error { throw error }
        return nil
    }

    /// Folding side: wants no more; a reader waiting for room wakes and stops.
    func stop() {
        state.withLock { $0.isStopped = true }
        room.signal()
    }
}

extension Array {
    /// The contents, leaving the array empty: a move, so the caller holds the only reference.
    fileprivate mutating func take() -> [Element] {
        var taken: [Element] = []
        swap(&self, &taken)
        return taken
    }
}

extension StepPipe.Batch {
    /// The contents, leaving the batch empty: a move, so the caller holds the only references.
    fileprivate mutating func take() -> StepPipe.Batch {
        var taken = StepPipe.Batch()
        swap(&self, &taken)
        return taken
    }
}
