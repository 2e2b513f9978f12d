import FlowlineCore
import FlowlineJournal
import Testing

/// A real coordinator run turn by turn: workflows of two tasks submitted, a worker completing what it is given,
/// futures resolved early (kept, in the globals).
private struct LiveRun {
    var coordinator = Coordinator()
    var now: Int64 = 1_000
    var leases: [LeaseID] = []
    var events: [Event] = []

    /// The events of turn `n`.
    mutating func turn(_ n: Int) -> [Event] {
        let command: Command
        if n == 0 {
            command = .connectWorker(WorkerID(1), name: "w", queues: ["q"], concurrency: 3)
        } else if n % 7 == 0 {
            command = .resolve(key: "k\(n)", .rejected(.timeout), request: RequestID(UInt64(n)))
        } else if n % 3 != 0 || leases.isEmpty {
            let spec = WorkflowSpec(
                name: "etl",
                id: WorkflowID("w\(n)"),
                input: RawJSON(#"{"n":\#(n)}"#),
                tasks: [
                    TaskSpec(id: "a", handler: "a", queue: "q"),
                    TaskSpec(id: "b", handler: "b", queue: "q", deps: ["a"]),
                ]
            )
            command = .submit(spec, request: RequestID(UInt64(n)))
        } else {
            let lease = leases.removeFirst()
            command = .complete(lease, result: RawJSON("[\(n)]"), poll: nil, from: WorkerID(1), request: nil)
        }
        let decision = coordinator.handle(command, at: Instant(milliseconds: now))
        now += 5
        for case .runTask(_, let run) in decision.effects { leases.append(run.lease) }
        events += decision.events
        return decision.events
    }

    /// Every event replayed one by one into a fresh coordinator, then resumed at `at`.
    func replayedByHand(_ events: [Event], at: Instant) -> Coordinator {
        var coordinator = Coordinator()
        for event in events { coordinator.replay(event) }
        _ = coordinator.resume(at: at)
        return coordinator
    }
}

/// The `Journal` contract, on LMDB (the product) and on a journal whose commits complete later (`MemoryJournal`).
struct JournalContractTests {
    /// Drives `turns` turns of a live run through `journal`, checkpointing at `checkpointAt`, and checks what every
    /// journal promises: `append` takes the events, completions come once each, in commit order, with consecutive
    /// seqs, and a checkpoint resets what is counted since. `settle` completes what is in flight.
    private func drive(
        _ journal: any Journal,
        _ run: inout LiveRun,
        turns: Range<Int>,
        checkpointAt: Set<Int>,
        completesAtOnce: Bool,
        settle: () -> Void
    ) throws {
        var completed: [(turn: Int, receipt: CommitReceipt)] = []
        for n in turns {
            var events = run.turn(n)
            let count = events.count
            journal.append(&events)
            #expect(events.isEmpty)
            let checkpointing = checkpointAt.contains(n)
            journal.commit(checkpointing: checkpointing ? run.coordinator.state : nil, durable: false) { result in
                guard case .success(let receipt) = result else {
                    Issue.record("commit of turn \(n) failed: \(result)")
                    return
                }
                #expect(receipt.records == count && receipt.checkpointed == checkpointing)
                completed.append((n, receipt))
            }
            if completesAtOnce { #expect(completed.last?.turn == n) }
        }
        settle()
        #expect(completed.map(\.turn) == Array(turns))
        var seq = completed.first.map { $0.receipt.lastSeq - UInt64($0.receipt.records) } ?? 0
        for (_, receipt) in completed {
            #expect(receipt.firstSeq == (receipt.records == 0 ? nil : seq + 1))
            seq += UInt64(receipt.records)
            #expect(receipt.lastSeq == seq)
        }
        #expect(journal.lastSeq == seq)
        if let last = checkpointAt.max(), turns.contains(last) {
            let since = completed.filter { $0.turn > last }.reduce(0) { $0 + $1.receipt.records }
            #expect(journal.eventsSinceCheckpoint == since)
        }
    }

    @Test func lmdbRecoversFromItsCheckpointTheStateAFullReplayGives() throws {
        try withTemporaryDirectory { dir in
            var configuration = LMDBJournalConfiguration(directory: dir)
            configuration.sync = .none
            configuration.mapSize = 1 << 24
            var run = LiveRun()
            do {
                let journal = try LMDBJournal(configuration: configuration)
                try drive(journal, &run, turns: 0..<150, checkpointAt: [70, 110], completesAtOnce: true) {}
                #expect(journal.hasUncheckpointedChanges)
                let id = WorkflowID("w1")
                let history = try journal.history(of: id)
                #expect(history.map(\.event) == run.events.filter { $0.workflowID == id })
                #expect(history.map(\.seq) == history.map(\.seq).sorted())
            }
            // A restart: the checkpoint of turn 110 plus the events after it.
            let reopened = try LMDBJournal(configuration: configuration)
            var recovered = Coordinator(futureRetention: .seconds(5))
            recovered.maxKeptFutures = 7
            let recovery = try reopened.recover(into: &recovered)
            #expect(recovered.futureRetention == .seconds(5) && recovered.maxKeptFutures == 7)
            #expect(recovery.usedCheckpoint && recovery.lastSeq == UInt64(run.events.count))
            let checkpointSeq = try #require(recovery.checkpoint?.seq)
            #expect(recovery.events == run.events.count - Int(checkpointSeq))
            #expect(recovery.firstSeq == checkpointSeq + 1)
            #expect(reopened.eventsSinceCheckpoint == recovery.events && reopened.hasUncheckpointedChanges)
            #expect(recovered.state.workflows == run.coordinator.state.workflows)
            #expect(recovered.state.globals == run.coordinator.state.globals)

            // The same routine from scratch, and the events replayed by hand, give the same state.
            var scratch = Coordinator(futureRetention: .seconds(5))
            let fromScratch = Recovery.Options(usesCheckpoint: false)
            let full = try Recovery.run(reopened.store, into: &scratch, options: fromScratch)
            #expect(!full.usedCheckpoint && full.events == run.events.count && full.changes.isAllDirty)
            #expect(full.checkpoint?.seq == checkpointSeq)
            let at = Instant(milliseconds: run.now + 1)
            let byHand = run.replayedByHand(run.events, at: at)
            #expect(recovered.resume(at: at) == scratch.resume(at: at))
            #expect(recovered.state == scratch.state)
            #expect(scratch.state == byHand.state)

            // A checkpoint after recovery holds what changed since the last one, the replayed events' workflows
            // included: a start from it alone gives the live state.
            try drive(reopened, &run, turns: 150..<170, checkpointAt: [169], completesAtOnce: true) {}
            var again = Coordinator()
            let second = try Recovery.run(reopened.store, into: &again)
            #expect(second.usedCheckpoint && second.events == 0 && second.lastSeq == UInt64(run.events.count))
            #expect(again.state.workflows == run.coordinator.state.workflows)
            #expect(again.state.globals == run.coordinator.state.globals)
        }
    }

    @Test func recoveryStopsAtALimitAndShowsWhatFollows() throws {
        try withTemporaryDirectory { dir in
            var configuration = LMDBJournalConfiguration(directory: dir)
            configuration.sync = .none
            configuration.mapSize = 1 << 24
            var run = LiveRun()
            let journal = try LMDBJournal(configuration: configuration)
            try drive(journal, &run, turns: 0..<120, checkpointAt: [80], completesAtOnce: true) {}
            let at = Instant(milliseconds: run.now + 1)
            // A limit before the checkpoint replays from scratch.
            var early = Coordinator()
            let partial = try Recovery.run(journal.store, into: &early, options: Recovery.Options(limit: .seq(40)))
            #expect(!partial.usedCheckpoint && partial.lastSeq == 40 && partial.events == 40)
            _ = early.resume(at: at)
            #expect(early.state == run.replayedByHand(Array(run.events.prefix(40)), at: at).state)
            // To the checkpoint from scratch, seeing the rest: what `replay --verify` compares.
            var toCheckpoint = Coordinator()
            var after = 0
            let verified = try Recovery.run(
                journal.store,
                into: &toCheckpoint,
                options: Recovery.Options(usesCheckpoint: false, limit: .checkpoint, keepsCheckpoint: true)
            ) { _ in after += 1 }
            let checkpoint = try #require(verified.checkpoint)
            #expect(verified.events == Int(checkpoint.seq) && after == run.events.count - Int(checkpoint.seq))
            #expect(checkpoint.workflows.count == checkpoint.snapshots && checkpoint.globals != nil)
            #expect(toCheckpoint.state.workflows.count == checkpoint.workflows.count)
            for workflow in checkpoint.workflows { #expect(toCheckpoint.state.workflows[workflow.id] == workflow) }
        }
    }

    @Test func aCommitThatCompletesLaterReleasesItsOutputInCommitOrder() throws {
        let journal = MemoryJournal()
        var run = LiveRun()
        var wire: [Int] = []
        for n in 0..<6 {
            var events = run.turn(n)
            journal.append(&events)
            journal.commit(checkpointing: n == 3 ? run.coordinator.state : nil, durable: false) { result in
                if case .success = result { wire.append(n) }
            }
        }
        // Nothing leaves before its commit completes; then each turn's output, in order.
        #expect(wire.isEmpty && journal.pending == 6 && journal.lastSeq == 0)
        journal.complete(2)
        #expect(wire == [0, 1])
        journal.complete()
        #expect(wire == Array(0..<6) && journal.lastSeq == UInt64(run.events.count))
        // The same contract as LMDB's, completing a few turns at a time.
        try drive(journal, &run, turns: 6..<60, checkpointAt: [30], completesAtOnce: false) { journal.complete() }
        var recovered = Coordinator()
        let recovery = try journal.recover(into: &recovered)
        #expect(recovery.usedCheckpoint && recovery.lastSeq == UInt64(run.events.count))
        let at = Instant(milliseconds: run.now + 1)
        _ = recovered.resume(at: at)
        #expect(recovered.state == run.replayedByHand(run.events, at: at).state)
    }
}
