import FlowlineJournal
import Testing

/// A read-only `JournalStore` beside a writer in another process, as `flowline inspect` runs beside `flowlined`.
struct JournalReaderTests {
    private static let firstBatch = 10
    private static let laterRecords = 500

    private static func record(_ n: Int) -> (workflowID: String, bytes: [UInt8]) {
        ("wf-\(n % 3)", recordBytes(n, size: 200))
    }

    /// The writer process: a tiny map that must grow past the reader's while the reader holds a snapshot.
    private static func writer(directory: String, channel: ForkedProcess.Channel) -> Int32 {
        do {
            let store = try JournalStore(directory: directory, sync: .full, mapSize: 64 << 10)
            store.maxMapSize = 16 << 20
            _ = try store.append((1...firstBatch).map(record))
            channel.send(1)
            guard channel.receive() == 1 else { return 3 }
            for batch in 0..<10 {
                let start = firstBatch + batch * (laterRecords / 10) + 1
                _ = try store.append((start..<start + laterRecords / 10).map(record))
            }
            channel.send(2)
            guard channel.receive() == 2 else { return 4 }
            return 0
        } catch {
            return 2
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func readOnlyStoreSeesTheWritersCommitsWithoutBlockingIt() throws {
        try withTemporaryDirectory { dir in
            let child = try ForkedProcess { channel in Self.writer(directory: dir, channel: channel) }
            try #require(child.receive(timeout: 20) == 1, "the writer did not make its first commit")

            let reader = try JournalStore(directory: dir, sync: .full, mapSize: 64 << 10, readOnly: true)
            #expect(reader.isReadOnly && reader.lastSeq == UInt64(Self.firstBatch))
            // Hold a read transaction (inside scan) while the writer commits: it must not wait for us, and our
            // snapshot must not change under us.
            var snapshot: [UInt64] = []
            var writerFinished = false
            try reader.scan { seq, bytes in
                #expect(bytes == Self.record(Int(seq)).bytes)
                snapshot.append(seq)
                if seq == 1 {
                    child.send(1)
                    writerFinished = child.receive(timeout: 20) == 2
                }
                return true
            }
            #expect(writerFinished, "the writer was blocked by the open reader")
            #expect(snapshot == (1...UInt64(Self.firstBatch)).map { $0 })

            // The writer grew its map past ours: the next read adopts the new size (MDB_MAP_RESIZED).
            let total = Self.firstBatch + Self.laterRecords
            let stats = try reader.stats()
            #expect(stats.events == total && stats.lastSeq == UInt64(total) && stats.commits == 0)
            #expect(stats.mapBytes > 64 << 10)
            #expect(reader.lastSeq == UInt64(total))
            var seen = 0
            try reader.scan { seq, bytes in
                seen += 1
                #expect(seq == UInt64(seen) && bytes == Self.record(seen).bytes)
                return true
            }
            #expect(seen == total)
            #expect(try reader.records(ofWorkflow: "wf-1").count == (1...total).filter { $0 % 3 == 1 }.count)

            child.send(2)
            #expect(child.wait() == 0)
        }
    }
}
