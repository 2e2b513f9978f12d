import FlowlineJournal
import Testing

struct JournalStoreTests {
    private typealias Record = (workflowID: String, bytes: [UInt8])

    private func scanAll(_ store: JournalStore, from seq: UInt64 = 1) throws -> [(UInt64, [UInt8])] {
        var records: [(UInt64, [UInt8])] = []
        try store.scan(from: seq) { seq, bytes in
            records.append((seq, bytes))
            return true
        }
        return records
    }

    @Test func appendAssignsConsecutiveSeqsThatSurviveReopening() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/data/journal"
            let batches: [[Record]] = [
                [("a", recordBytes(1)), ("b", recordBytes(2)), ("a", recordBytes(3))],
                [("c", recordBytes(4, size: 0))],
                [("b", recordBytes(5, size: 3000))],
            ]
            let written: [(UInt64, [UInt8])]
            do {
                let store = try JournalStore(directory: path, sync: .full)
                #expect(store.lastSeq == 0)
                #expect(try store.append([]) == nil)
                #expect(store.commits == 0)
                #expect(try store.append(batches[0]) == 1)
                #expect(try store.append(batches[1]) == 4)
                #expect(try store.append(batches[2]) == 5)
                #expect(store.lastSeq == 5)
                #expect(store.commits == 3)
                written = try scanAll(store)
            }
            #expect(written.map(\.0) == [1, 2, 3, 4, 5])
            #expect(written.map(\.1) == batches.joined().map(\.bytes))

            let reopened = try JournalStore(directory: path, sync: .full)
            #expect(reopened.lastSeq == 5)
            #expect(reopened.commits == 0)
            let read = try scanAll(reopened)
            #expect(read.map(\.0) == written.map(\.0))
            #expect(read.map(\.1) == written.map(\.1))
            #expect(try scanAll(reopened, from: 4).map(\.0) == [4, 5])
            #expect(try reopened.append([("d", recordBytes(6))]) == 6)
            let stats = try reopened.stats()
            #expect(stats.events == 6 && stats.firstSeq == 1 && stats.lastSeq == 6 && stats.commits == 1)
            #expect(stats.fileBytes > 0 && stats.mapBytes == 1 << 30)
        }
    }

    @Test func scanStopsWhenTheBodyReturnsFalseAndRethrows() throws {
        struct Stop: Error {}
        try withTemporaryDirectory { dir in
            let store = try JournalStore(directory: dir, sync: .none)
            _ = try store.append((1...5).map { ("w", recordBytes($0)) })
            var seen: [UInt64] = []
            try store.scan(from: 2) { seq, _ in
                seen.append(seq)
                return seq < 3
            }
            #expect(seen == [2, 3])
            #expect(throws: Stop.self) { try store.scan { _, _ in throw Stop() } }
        }
    }

    @Test func recordsOfWorkflowAreOnlyThatWorkflowsInSeqOrder() throws {
        let long = String(repeating: "x", count: 600)
        let ids = ["a", "ab", "a\u{0}b", "", "é", long, long + "y", String(long.prefix(502))]
        try withTemporaryDirectory { dir in
            let store = try JournalStore(directory: dir, sync: .none)
            var expected: [String: [(UInt64, [UInt8])]] = [:]
            var seq: UInt64 = 0
            for round in 0..<3 {
                let batch: [Record] = ids.enumerated().map { index, id in (id, recordBytes(round * 100 + index)) }
                _ = try store.append(batch)
                for record in batch {
                    seq += 1
                    expected[record.workflowID, default: []].append((seq, record.bytes))
                }
            }
            for id in ids {
                let records = try store.records(ofWorkflow: id)
                #expect(
                    records.map(\.seq) == expected[id]?.map(\.0),
                    "workflow \(id.prefix(8)) of \(id.utf8.count) bytes"
                )
                #expect(records.map(\.bytes) == expected[id]?.map(\.1))
            }
            #expect(try store.records(ofWorkflow: "none").isEmpty)
        }
    }

    @Test func purgeRemovesExactlyThePurgedWorkflowsRecordsAndIndexEntries() throws {
        let long = String(repeating: "x", count: 600)
        let ids = ["a", "ab", "a\u{0}b", "", "é", long, long + "y", String(long.prefix(502))]
        let purged: Set = ["a", "a\u{0}b", "", long, "never written"]
        try withTemporaryDirectory { dir in
            let store = try JournalStore(directory: dir, sync: .none)
            var expected: [String: [(UInt64, [UInt8])]] = [:]
            var seq: UInt64 = 0
            // Enough rounds that both databases span many pages, and each workflow's records are spread over them.
            for round in 0..<300 {
                let batch: [Record] = ids.enumerated().map { index, id in
                    (id, recordBytes(round * 10 + index, size: 40))
                }
                _ = try store.append(batch)
                for record in batch {
                    seq += 1
                    expected[record.workflowID, default: []].append((seq, record.bytes))
                }
            }
            var batch = JournalBatch()
            batch.purge = Array(purged)
            try store.commit(batch)

            for id in ids {
                let records = try store.records(ofWorkflow: id)
                let want = purged.contains(id) ? [] : expected[id] ?? []
                #expect(records.map(\.seq) == want.map(\.0), "workflow \(id.prefix(8)) of \(id.utf8.count) bytes")
                #expect(records.map(\.bytes) == want.map(\.1))
            }
            let kept = ids.filter { !purged.contains($0) }.flatMap { expected[$0] ?? [] }.sorted { $0.0 < $1.0 }
            let left = try scanAll(store)
            #expect(left.map(\.0) == kept.map(\.0))
            #expect(left.map(\.1) == kept.map(\.1))
            #expect(store.lastSeq == seq)
        }
    }

    @Test func fullMapAtMaxMapSizeIsOutOfSpaceAndRecoverable() throws {
        try withTemporaryDirectory { dir in
            let store = try JournalStore(directory: dir, sync: .none, mapSize: 64 << 10)
            store.maxMapSize = 64 << 10
            var failure: JournalError?
            var appended = 0
            while failure == nil && appended < 1000 {
                do throws(JournalError) {
                    _ = try store.append([("w", recordBytes(appended, size: 1000))])
                    appended += 1
                } catch {
                    failure = error
                }
            }
            let error = try #require(failure)
            #expect(error.isOutOfSpace && error.code == .outOfSpace)
            #expect(error.message.contains("MDB_MAP_FULL"))
            #expect(appended > 0)
            #expect(store.lastSeq == UInt64(appended))
            #expect(store.commits == UInt64(appended))
            #expect(try scanAll(store).map(\.1) == (0..<appended).map { recordBytes($0, size: 1000) })
            #expect(try store.stats().mapBytes == 64 << 10)

            store.maxMapSize = 1 << 20
            #expect(try store.append([("w", recordBytes(appended, size: 1000))]) == UInt64(appended + 1))
            #expect(try store.stats().mapBytes == 128 << 10)
            #expect(try store.records(ofWorkflow: "w").count == appended + 1)
        }
    }

    @Test func mapDoublesWhileMaxMapSizeAllows() throws {
        try withTemporaryDirectory { dir in
            let store = try JournalStore(directory: dir, sync: .none, mapSize: 64 << 10)
            store.maxMapSize = 4 << 20
            for batch in 0..<40 {
                let records: [Record] = (0..<10).map { ("w\(batch % 4)", recordBytes(batch * 10 + $0, size: 1000)) }
                _ = try store.append(records)
            }
            let stats = try store.stats()
            #expect(stats.events == 400 && stats.lastSeq == 400)
            #expect(stats.mapBytes > 64 << 10 && stats.mapBytes <= 4 << 20)
            #expect(try store.records(ofWorkflow: "w1").count == 100)
        }
    }

    @Test func newerFormatIsRefused() throws {
        try withTemporaryDirectory { dir in
            do {
                let store = try JournalStore(directory: dir, sync: .full)
                #expect(try store.meta("format") == Array("2".utf8))
                try store.setMeta("format", Array("3".utf8))
            }
            for readOnly in [false, true] {
                let error = #expect(throws: JournalError.self) {
                    try JournalStore(directory: dir, sync: .full, readOnly: readOnly)
                }
                #expect(error?.code == .unsupportedFormat)
            }
        }
    }

    @Test func metaRoundTripsAndCountsAsACommit() throws {
        try withTemporaryDirectory { dir in
            let store = try JournalStore(directory: dir, sync: .full)
            #expect(try store.meta("checkpoint") == nil)
            try store.setMeta("checkpoint", [1, 2, 3])
            #expect(try store.meta("checkpoint") == [1, 2, 3])
            #expect(store.commits == 1)
        }
    }

    @Test func readOnlyOpenOfAMissingJournalFails() throws {
        try withTemporaryDirectory { dir in
            let error = #expect(throws: JournalError.self) {
                try JournalStore(directory: dir + "/absent", sync: .full, readOnly: true)
            }
            #expect(error?.code == .storage)
        }
    }

    @Test func tenThousandRecordsInHundredBatchesScanBackInOrder() throws {
        try withTemporaryDirectory { dir in
            let store = try JournalStore(directory: dir, sync: .none)
            for batch in 0..<100 {
                let records: [Record] = (0..<100).map { index in
                    let n = batch * 100 + index
                    return ("wf-\(n % 7)", recordBytes(n, size: 40 + n % 50))
                }
                #expect(try store.append(records) == UInt64(batch * 100 + 1))
            }
            #expect(store.lastSeq == 10_000 && store.commits == 100)
            var next: UInt64 = 1
            try store.scan { seq, bytes in
                #expect(seq == next)
                let n = Int(seq) - 1
                #expect(bytes == recordBytes(n, size: 40 + n % 50))
                next += 1
                return true
            }
            #expect(next == 10_001)
            let ofThree = try store.records(ofWorkflow: "wf-3").map(\.seq)
            #expect(ofThree == stride(from: 4, through: 10_000, by: 7).map { UInt64($0) })
            #expect(try store.stats().events == 10_000)
        }
    }
}
