import FlowlineJournal
import Testing

/// With `SyncMode.full` a commit syncs its data pages and leaves its meta page to the next commit's sync or
/// `makeDurable` (`commit(_:durable:)`); `isDurable` says which.
struct DurabilityTests {
    private func batch(_ workflowID: String, _ bytes: [UInt8]) -> JournalBatch {
        var batch = JournalBatch()
        batch.records = [(workflowID, bytes)]
        return batch
    }

    @Test func aCommitLeftUndurableIsReadableAndMadeDurableOnRequest() throws {
        try withTemporaryDirectory { dir in
            let store = try JournalStore(directory: dir, sync: .full)
            #expect(store.isDurable)
            #expect(try store.commit(batch("w", [1]), durable: false) == 1)
            #expect(!store.isDurable)
            #expect(try store.commit(batch("w", [2]), durable: false) == 2)
            #expect(!store.isDurable)
            let reader = try JournalStore(directory: dir, sync: .full, readOnly: true)
            #expect(try reader.stats().lastSeq == 2)
            try store.makeDurable()
            #expect(store.isDurable)
            try store.makeDurable()
            #expect(store.isDurable)

            #expect(try store.commit(batch("w", [3]), durable: false) == 3)
            #expect(try store.commit(batch("w", [4])) == 4)
            #expect(store.isDurable)
            #expect(try store.commit(batch("w", [5]), durable: false) == 5)
            #expect(try store.append([("w", [6])]) == 6)
            #expect(store.isDurable)
            _ = try store.commit(batch("w", [7]), durable: false)
            try store.setMeta("k", [1])
            #expect(store.isDurable)
            _ = try store.commit(batch("w", [8]), durable: false)
            try store.flush()
            #expect(store.isDurable)
            #expect(try store.records(ofWorkflow: "w").map(\.bytes) == (1...8).map { [UInt8($0)] })
        }
    }

    @Test func withoutSyncsEveryCommitCountsAsDurable() throws {
        try withTemporaryDirectory { dir in
            let store = try JournalStore(directory: dir, sync: .none)
            _ = try store.commit(batch("w", [1]), durable: false)
            #expect(store.isDurable)
        }
    }

    @Test func aBatchThatMayChangeNothingIsSyncedAtOnce() throws {
        try withTemporaryDirectory { dir in
            let store = try JournalStore(directory: dir, sync: .full)
            _ = try store.commit(batch("w", [1]), durable: false)
            var purge = JournalBatch()
            purge.purge = ["absent"]
            _ = try store.commit(purge, durable: false)
            #expect(store.isDurable)
        }
    }
}
