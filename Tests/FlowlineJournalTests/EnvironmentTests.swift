import FlowlineLMDB
import Glibc
import Synchronization
import Testing

struct EnvironmentTests {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func putGetAndDeleteRoundTrip() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: dir + "/env", mapSize: 1 << 20)
            let db = try env.openDatabase("kv", create: true)
            let seenInside = try env.write { txn in
                try txn.put(bytes("one"), for: bytes("k1"), in: db)
                try txn.put([], for: bytes("empty"), in: db)
                return try txn.get(bytes("k1"), in: db)
            }
            #expect(seenInside == bytes("one"))
            let (one, empty, missing, count) = try env.read { txn in
                (
                    try txn.get(bytes("k1"), in: db), try txn.get(bytes("empty"), in: db),
                    try txn.get(bytes("missing"), in: db), try txn.count(in: db)
                )
            }
            #expect(one == bytes("one"))
            #expect(empty == [])
            #expect(missing == nil)
            #expect(count == 2)
            let deleted = try env.write { txn in
                (try txn.delete(bytes("k1"), in: db), try txn.delete(bytes("k1"), in: db))
            }
            #expect(deleted == (true, false))
            #expect(try env.read { txn in try txn.get(bytes("k1"), in: db) } == nil)
        }
    }

    @Test func forEachVisitsKeysInByteOrderFromTheGivenKey() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: dir, mapSize: 1 << 20)
            let db = try env.openDatabase("kv", create: true)
            let keys: [[UInt8]] = [[2], [1, 0], [1], [0xFF], [1, 0xFF], [0x80]]
            try env.write { txn in
                for key in keys { try txn.put(key, for: key, in: db) }
            }
            let sorted: [[UInt8]] = [[1], [1, 0], [1, 0xFF], [2], [0x80], [0xFF]]
            var all: [[UInt8]] = []
            var fromTwo: [[UInt8]] = []
            var firstTwo: [[UInt8]] = []
            try env.read { txn in
                try txn.forEach(in: db) { key, value in
                    #expect(key == value)
                    all.append(key)
                    return true
                }
                try txn.forEach(in: db, from: [1, 0x80]) { key, _ in
                    fromTwo.append(key)
                    return true
                }
                try txn.forEach(in: db) { key, _ in
                    firstTwo.append(key)
                    return firstTwo.count < 2
                }
            }
            #expect(try env.read { txn in try txn.last(in: db) }?.key == [0xFF])
            #expect(all == sorted)
            #expect(fromTwo == Array(sorted.dropFirst(2)))
            #expect(firstTwo == Array(sorted.prefix(2)))
            try env.write { txn in
                var visited = 0
                try txn.forEach(in: db, from: [0xFF, 0]) { _, _ in
                    visited += 1
                    return true
                }
                #expect(visited == 0)
            }
            #expect(try env.write { txn in try txn.last(in: db) }?.value == [0xFF])
        }
    }

    @Test("forEachConcurrently hands views of each entry, empty values included, and its state to its thread")
    func forEachConcurrentlyGivesViewsOfEachEntry() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: dir + "/env", mapSize: 1 << 20)
            let db = try env.openDatabase("kv", create: true)
            let entries: [([UInt8], [UInt8])] = [
                (bytes("a"), bytes("one")), (bytes("b"), []), (bytes("c"), bytes("three")),
            ]
            try env.write { txn in
                for (key, value) in entries { try txn.put(value, for: key, in: db) }
            }
            let caller = pthread_self()
            let seen = Mutex<[([UInt8], [UInt8])]>([])
            // The state collects the entries on the reading thread, without a lock, and hands them over at the end.
            try env.read { txn in
                try txn.forEachConcurrently(
                    in: db,
                    state: { (entries: [([UInt8], [UInt8])](), isOther: pthread_equal(pthread_self(), caller) == 0) }
                ) {
                    state,
                    key,
                    value in
                    var copied: ([UInt8], [UInt8]) = ([], [])
                    for i in key.indices { copied.0.append(key[i]) }
                    for i in value.indices { copied.1.append(value[i]) }
                    state.entries.append(copied)
                    return true
                } end: { state, error in
                    if error == nil && state.isOther { seen.withLock { $0 = state.entries } }
                } while: {
                }
            }
            #expect(seen.withLock { $0.map(\.0) } == entries.map(\.0))
            #expect(seen.withLock { $0.map(\.1) } == entries.map(\.1))
        }
    }

    @Test func forEachDeletingRemovesTheChosenEntriesAndStops() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: dir, mapSize: 16 << 20)
            let db = try env.openDatabase("kv", create: true)
            let value = [UInt8](repeating: 7, count: 100)
            try env.write { txn in
                for n in 0..<5000 { try txn.put(value + JournalKeyBytes.seq(n), for: JournalKeyBytes.seq(n), in: db) }
            }
            // Runs of deletions across pages, entries kept between them, and a stop before the end.
            let doomed: (Int) -> Bool = { n in n % 7 != 3 && !(2000..<2100).contains(n) }
            var visited: [Int] = []
            let deleted = try env.write { txn in
                try txn.forEach(in: db, from: JournalKeyBytes.seq(10)) { key, stored in
                    let n = Int(key.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
                    #expect(stored == value + key)
                    visited.append(n)
                    if n == 4000 { return .stop }
                    return doomed(n) ? .delete : .keep
                }
            }
            #expect(visited == Array(10...4000))
            let left = try bigEndianKeys(in: db, of: env)
            let kept = (0..<5000).filter { !(10..<4000).contains($0) || !doomed($0) }
            #expect(left == kept)
            #expect(deleted == 5000 - kept.count)
        }
    }

    @Test func deleteBigEndianKeysRemovesThoseThatAreThere() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: dir, mapSize: 16 << 20)
            let db = try env.openDatabase("kv", create: true)
            try env.write { txn in
                for n in stride(from: 0, to: 6000, by: 2) {
                    try txn.put([UInt8](repeating: 1, count: 80), forBigEndian: UInt64(n), in: db)
                }
            }
            // Sorted with gaps, runs, keys that are not there, and past the last key; then unsorted.
            let sorted = Array(0..<40) + Array(stride(from: 100, to: 3000, by: 6)) + [4001, 5998, 7000]
            let unsorted: [UInt64] = [5000, 12, 4000, 13, 4998]
            let (first, second) = try env.write { txn in
                (
                    try txn.delete(bigEndianKeys: sorted.map(UInt64.init), in: db),
                    try txn.delete(bigEndianKeys: unsorted, in: db)
                )
            }
            let gone = Set(sorted + unsorted.map(Int.init))
            let kept = stride(from: 0, to: 6000, by: 2).filter { !gone.contains($0) }
            #expect(first == sorted.filter { $0 < 6000 && $0 % 2 == 0 }.count)
            #expect(second == 3)
            let left = try bigEndianKeys(in: db, of: env)
            #expect(left == kept)
            #expect(try env.write { txn in try txn.delete(bigEndianKeys: [], in: db) } == 0)
        }
    }

    @Test func throwingBodyAbortsTheTransaction() throws {
        struct Boom: Error {}
        try withTemporaryDirectory { dir in
            let env = try Environment(path: dir, mapSize: 1 << 20)
            let db = try env.openDatabase("kv", create: true)
            #expect(throws: Boom.self) {
                try env.write { txn in
                    try txn.put(bytes("v"), for: bytes("k"), in: db)
                    throw Boom()
                }
            }
            #expect(try env.read { txn in try txn.count(in: db) } == 0)
            #expect(try env.read { txn in try txn.last(in: db) } == nil)
            // The environment takes writes again after an abort.
            try env.write { txn in try txn.put(bytes("v"), for: bytes("k"), in: db) }
            #expect(try env.read { txn in try txn.get(bytes("k"), in: db) } == bytes("v"))
        }
    }

    @Test func appendRefusesAKeyThatDoesNotSortLast() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: dir, mapSize: 1 << 20)
            let db = try env.openDatabase("log", create: true)
            try env.write { txn in try txn.put([1], for: [0, 2], in: db, append: true) }
            let error = #expect(throws: LMDBError.self) {
                try env.write { txn in try txn.put([1], for: [0, 1], in: db, append: true) }
            }
            #expect(error?.call == "mdb_put")
            #expect(error?.isOutOfSpace == false)
        }
    }

    @Test func fullMapThrowsOutOfSpaceUntilTheMapGrows() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: dir, mapSize: 64 << 10, noSync: true)
            let db = try env.openDatabase("kv", create: true)
            let value = [UInt8](repeating: 7, count: 1000)
            var stored = 0
            var failure: LMDBError?
            while failure == nil && stored < 1000 {
                do {
                    try env.write { txn in try txn.put(value, for: JournalKeyBytes.seq(stored), in: db) }
                    stored += 1
                } catch let error as LMDBError {
                    failure = error
                }
            }
            let error = try #require(failure)
            #expect(error.isOutOfSpace && error.isMapFull)
            #expect(error.description.contains("MDB_MAP_FULL"))
            #expect(try env.read { txn in try txn.count(in: db) } == stored)
            try env.setMapSize(1 << 20)
            #expect(env.mapSize == 1 << 20)
            try env.write { txn in try txn.put(value, for: JournalKeyBytes.seq(stored), in: db) }
            #expect(try env.read { txn in try txn.count(in: db) } == stored + 1)
            #expect(env.fileSize > 0 && env.fileSize <= env.mapSize)
        }
    }

    @Test func missingDatabaseAndReadOnlyWritesAreErrors() throws {
        try withTemporaryDirectory { dir in
            do {
                let env = try Environment(path: dir, mapSize: 1 << 20)
                _ = try env.openDatabase("present", create: true)
            }
            let env = try Environment(path: dir, mapSize: 1 << 20, readOnly: true)
            #expect(env.isReadOnly)
            let present = try env.openDatabase("present", create: false)
            #expect(try env.read { txn in try txn.count(in: present) } == 0)
            let missing = #expect(throws: LMDBError.self) { try env.openDatabase("absent", create: false) }
            #expect(missing?.isNotFound == true)
            let write = #expect(throws: LMDBError.self) {
                try env.write { txn in try txn.put([1], for: [1], in: present) }
            }
            #expect(write?.call == "mdb_txn_begin")
            #expect(throws: LMDBError.self) {
                try Environment(path: dir + "/nowhere", mapSize: 1 << 20, readOnly: true)
            }
        }
    }
}

/// Big-endian counter keys, so byte order is numeric order.
enum JournalKeyBytes {
    static func seq(_ n: Int) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: UInt64(n) >> (56 - 8 * UInt64($0))) }
    }
}

/// Every key of `db`, read as a big-endian integer, in LMDB's order.
private func bigEndianKeys(in db: Database, of env: Environment) throws -> [Int] {
    try env.read { txn in
        var keys: [Int] = []
        try txn.forEach(in: db) { key, _ in
            keys.append(Int(key.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }))
            return true
        }
        return keys
    }
}
