import FlowlineCore
import FlowlineLMDB
import Testing

@testable import FlowlineJournal

/// With `indexDeferral` set, commits leave their `by_workflow` entries for later: whatever has been committed must
/// still be found by workflow, from the writer and from a reader beside it, survive the writer stopping at any
/// point, and be gone entirely after a purge.
struct IndexDeferralTests {
    /// A real event record of workflow `id`, distinguishable by `n`.
    private func record(_ id: String, _ n: Int) -> (workflowID: String, bytes: [UInt8]) {
        let event = Event.taskProgressed(
            WorkflowID(id),
            TaskID("t"),
            progress: RawJSON("\(n)"),
            at: Instant(milliseconds: Int64(n))
        )
        return (id, EventCodec.encode(event))
    }

    private func commit(_ store: JournalStore, _ records: [(workflowID: String, bytes: [UInt8])]) throws {
        var batch = JournalBatch()
        batch.records = records
        try store.commit(batch)
    }

    /// How many `by_workflow` entries the store has written.
    private func indexEntries(_ store: JournalStore) throws -> Int {
        try store.environment.read { txn in try txn.count(in: store.byWorkflow) }
    }

    /// The records of `id`, as the index and the tail scan give them.
    private func seqs(_ store: JournalStore, _ id: String) throws -> [UInt64] {
        try store.records(ofWorkflow: id).map(\.seq)
    }

    @Test func deferredEntriesAreFoundBeforeTheyAreWrittenAndWrittenPastTheLimit() throws {
        try withTemporaryDirectory { dir in
            let store = try JournalStore(directory: dir, sync: .none)
            store.indexDeferral = 10
            // Seqs 1–9: a, b, a, b, ...
            for n in stride(from: 0, to: 9, by: 3) {
                try commit(store, (n..<n + 3).map { record($0 % 2 == 0 ? "a" : "b", $0) })
            }
            #expect(try indexEntries(store) == 0)
            #expect(try store.meta("indexed_through") == JournalKey.seq(0))
            let reader = try JournalStore(directory: dir, sync: .none, readOnly: true)
            for view in [store, reader] {
                #expect(try seqs(view, "a") == [1, 3, 5, 7, 9])
                #expect(try seqs(view, "b") == [2, 4, 6, 8])
                #expect(
                    try view.records(ofWorkflow: "a").map(\.bytes) == [0, 2, 4, 6, 8].map { record("a", $0).bytes }
                )
                #expect(try seqs(view, "c") == [])
            }
            // 9 waiting + 3 reaches 10: this commit writes all twelve.
            try commit(store, (9..<12).map { record("c", $0) })
            #expect(try indexEntries(store) == 12)
            #expect(try store.meta("indexed_through") == nil)
            // The next deferred commit starts a new tail after the indexed records.
            try commit(store, [record("a", 12)])
            #expect(try store.meta("indexed_through") == JournalKey.seq(12))
            for view in [store, reader] {
                #expect(try seqs(view, "a") == [1, 3, 5, 7, 9, 13])
                #expect(try seqs(view, "c") == [10, 11, 12])
            }
        }
    }

    @Test func aWriterThatStopsWithEntriesDeferredHasThemWrittenByTheNextOne() throws {
        try withTemporaryDirectory { dir in
            do {
                let store = try JournalStore(directory: dir, sync: .none)
                store.indexDeferral = 100
                try commit(store, [record("a", 0), record("b", 1)])
                try commit(store, [record("a", 2)])
                #expect(try indexEntries(store) == 0)
                // Closed without writing them: what a crash leaves.
            }
            let reader = try JournalStore(directory: dir, sync: .none, readOnly: true)
            #expect(try seqs(reader, "a") == [1, 3])
            let reopened = try JournalStore(directory: dir, sync: .none)
            #expect(try indexEntries(reopened) == 3)
            #expect(try reopened.meta("indexed_through") == nil)
            #expect(try seqs(reopened, "a") == [1, 3])
            #expect(try seqs(reopened, "b") == [2])
            // Eager again (indexDeferral 0): each commit writes its own entry.
            try commit(reopened, [record("b", 3)])
            #expect(try indexEntries(reopened) == 4)
            #expect(try seqs(reader, "b") == [2, 4])
        }
    }

    @Test func aPurgeWritesTheDeferredEntriesFirstSoNoRecordOfTheWorkflowIsLeft() throws {
        try withTemporaryDirectory { dir in
            let store = try JournalStore(directory: dir, sync: .none)
            store.indexDeferral = 100
            try commit(store, (0..<6).map { record($0 < 3 ? "a" : "b", $0) })
            var batch = JournalBatch()
            batch.records = [record("b", 6)]
            batch.purge = ["a"]
            try store.commit(batch)
            var left: [UInt64] = []
            try store.scan { seq, _ in
                left.append(seq)
                return true
            }
            #expect(left == [4, 5, 6, 7])
            #expect(try seqs(store, "a") == [])
            #expect(try seqs(store, "b") == [4, 5, 6, 7])
            #expect(try indexEntries(store) == 4)
            #expect(try store.meta("indexed_through") == nil)
        }
    }

    @Test func aCheckpointWritesTheDeferredEntriesAndAppendDoesToo() throws {
        try withTemporaryDirectory { dir in
            let store = try JournalStore(directory: dir, sync: .none)
            store.indexDeferral = 100
            try commit(store, [record("a", 0)])
            var batch = JournalBatch()
            batch.records = [record("a", 1)]
            batch.checkpoint = [1, 2, 3]
            try store.commit(batch)
            #expect(try indexEntries(store) == 2)
            try commit(store, [record("a", 2)])
            #expect(try indexEntries(store) == 2)
            _ = try store.append([record("b", 3)])
            #expect(try indexEntries(store) == 4)
            #expect(try store.meta("indexed_through") == nil)
            #expect(try seqs(store, "a") == [1, 2, 3])
        }
    }

    @Test func aWriterUpgradesFormatOneAndAReaderLeavesIt() throws {
        try withTemporaryDirectory { dir in
            do {
                let store = try JournalStore(directory: dir, sync: .none)
                _ = try store.append([record("a", 0)])
                try store.setMeta("format", Array("1".utf8))
            }
            let reader = try JournalStore(directory: dir, sync: .none, readOnly: true)
            #expect(try reader.meta("format") == Array("1".utf8))
            #expect(try seqs(reader, "a") == [1])
            let writer = try JournalStore(directory: dir, sync: .none)
            #expect(try writer.meta("format") == Array("2".utf8))
            #expect(try seqs(writer, "a") == [1])
        }
    }
}

/// The unindexed tail is scanned by reading each record's workflow id, and only that far.
struct RecordWorkflowIDTests {
    @Test(
        "the id read from a record is the one its full decode gives",
        arguments: EventCodecTests.events + [
            .workflowsCompacted([WorkflowID("a"), WorkflowID("b")], at: EventCodecTests.at),
            .workflowSubmitted(
                WorkflowSpec(name: "anonymous", tasks: EventCodecTests.spec.tasks),
                at: EventCodecTests.at
            ),
        ]
    )
    func readsTheWorkflowID(event: Event) throws {
        let bytes = EventCodec.encode(event)
        #expect(try EventCodec.workflowID(of: bytes) == event.workflowID.rawValue)
        #expect(throws: JournalError.self) { try EventCodec.workflowID(of: Array(bytes.prefix(9))) }
    }
}
