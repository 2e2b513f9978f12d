import FlowlineJournal
import FlowlineLMDB
import Glibc
import Testing

/// `MDB_WRITEMAP`, which the journal uses with `SyncMode.none`: LMDB sizes the file to the map, sparsely, and the
/// environment allocates disk blocks ahead of the pages in use so that a full disk is an error, not a `SIGBUS`.
struct WritableMapTests {
    /// `st_size` and the bytes of disk blocks allocated to `data.mdb`.
    private func dataFile(_ dir: String) throws -> (size: Int, allocated: Int) {
        var info = stat()
        try #require(stat(dir + "/data.mdb", &info) == 0)
        return (Int(info.st_size), Int(info.st_blocks) * 512)
    }

    @Test func blocksAreAllocatedAheadOfThePagesInUseAndOfWhatAWriteReserves() throws {
        try withTemporaryDirectory { dir in
            let margin = 4 << 20
            let env = try Environment(path: dir, mapSize: 256 << 20, noSync: true, writableMap: true)
            #expect(env.usesWritableMap)
            let db = try env.openDatabase("kv", create: true)
            var file = try dataFile(dir)
            #expect(file.size == 256 << 20)
            #expect(file.allocated >= env.usedSize + margin && file.allocated < 64 << 20)

            // One write of 40 MiB, past everything allocated so far: the reservation comes before the pages.
            let big = [UInt8](repeating: 9, count: 40 << 20)
            try env.write(reserving: 2 * big.count) { txn in try txn.put(big, for: [1], in: db) }
            file = try dataFile(dir)
            #expect(env.usedSize > big.count)
            #expect(file.allocated >= env.usedSize + margin)
            #expect(file.size == 256 << 20)

            // Small writes after it stay inside the margin.
            let before = file.allocated
            for key in UInt8(2)...50 { try env.write { txn in try txn.put([key], for: [key], in: db) } }
            #expect(try dataFile(dir).allocated == before)
            #expect(try env.read { txn in try txn.get([1], in: db) } == big)
        }
    }

    @Test func aReservationBeyondTheMapStopsAtTheMap() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: dir, mapSize: 16 << 20, noSync: true, writableMap: true)
            let db = try env.openDatabase("kv", create: true)
            try env.write(reserving: 1 << 30) { txn in try txn.put([1], for: [1], in: db) }
            let file = try dataFile(dir)
            #expect(file.size == 16 << 20 && file.allocated <= 17 << 20)
        }
    }

    @Test func aReaderAndALaterWriterWithoutTheWritableMapReadWhatItWrote() throws {
        try withTemporaryDirectory { dir in
            do {
                let env = try Environment(path: dir, mapSize: 1 << 24, noSync: true, writableMap: true)
                let db = try env.openDatabase("kv", create: true)
                try env.write { txn in try txn.put([1, 2, 3], for: [1], in: db) }
            }
            do {
                let reader = try Environment(path: dir, mapSize: 1 << 24, readOnly: true, writableMap: true)
                #expect(!reader.usesWritableMap)
                let db = try reader.openDatabase("kv", create: false)
                #expect(try reader.read { txn in try txn.get([1], in: db) } == [1, 2, 3])
            }
            let writer = try Environment(path: dir, mapSize: 1 << 24)
            #expect(!writer.usesWritableMap)
            let db = try writer.openDatabase("kv", create: true)
            try writer.write { txn in try txn.put([4], for: [2], in: db) }
            #expect(try writer.read { txn in try txn.count(in: db) } == 2)
        }
    }

    @Test func theJournalUsesItWithoutSyncsAndCountsOnlyThePagesInUse() throws {
        try withTemporaryDirectory { dir in
            let store = try JournalStore(directory: dir + "/none", sync: .none)
            _ = try store.append((1...100).map { ("w\($0 % 7)", Array(repeating: UInt8($0), count: 300)) })
            let stats = try store.stats()
            #expect(stats.mapBytes == 1 << 30)
            #expect(stats.fileBytes > 30_000 && stats.fileBytes < 1 << 20)
            #expect(try dataFile(dir + "/none").size == 1 << 30)
            #expect(try store.records(ofWorkflow: "w3").count == 14)

            let synced = try JournalStore(directory: dir + "/full", sync: .full)
            _ = try synced.append([("w", [1])])
            #expect(try dataFile(dir + "/full").size < 1 << 20)
        }
    }
}
