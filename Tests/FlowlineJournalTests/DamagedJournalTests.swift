import FlowlineJournal
import FlowlineLMDB
import Foundation
import Glibc
import Testing

/// Journals that must not be opened as they are: cut short, or held by another exclusive writer.
struct DamagedJournalTests {
    private func fill(_ dir: String, records: Int) throws -> Int {
        let store = try JournalStore(directory: dir, sync: .full, mapSize: 64 << 10)
        for seq in 0..<records {
            _ = try store.append([(workflowID: "w\(seq % 7)", bytes: recordBytes(seq, size: 900))])
        }
        return try store.stats().fileBytes
    }

    /// The check reads the meta pages as LMDB does: an intact file of any size passes, one byte less than its
    /// pages in use does not.
    @Test func aDataFileShorterThanItsPagesInUseIsRefusedBeforeItIsMapped() throws {
        try withTemporaryDirectory { dir in
            let used = try fill(dir, records: 300)
            #expect(used > 64 << 10, "the map should have grown")
            let file = dir + "/data.mdb"
            // Intact: opens, read-only and for writing, with a writable map or without.
            for readOnly in [true, false] {
                let store = try JournalStore(directory: dir, sync: .none, readOnly: readOnly)
                #expect(store.lastSeq == 300)
            }
            // The writable map sized the file to the map; cut it to exactly the pages in use: still whole.
            #expect(truncate(file, off_t(used)) == 0)
            #expect(try JournalStore(directory: dir, sync: .full, readOnly: true).lastSeq == 300)
            for cut in [used - 1, used / 2, 4096 + 100, 100] {
                #expect(truncate(file, off_t(cut)) == 0)
                for (sync, readOnly) in [(SyncMode.none, false), (.full, false), (.full, true)] {
                    #expect {
                        _ = try JournalStore(directory: dir, sync: sync, readOnly: readOnly)
                    } throws: { error in
                        guard let error = error as? JournalError else { return false }
                        return error.code == .corrupt && error.message.contains("truncated")
                    }
                }
                // Refusing changed nothing.
                var info = stat()
                #expect(stat(file, &info) == 0 && Int(info.st_size) == cut)
            }
        }
    }

    @Test func aSecondExclusiveWriterIsRefusedNamingTheHolder() throws {
        try withTemporaryDirectory { dir in
            let first = try JournalStore(directory: dir, sync: .none, exclusive: true)
            #expect {
                _ = try JournalStore(directory: dir, sync: .none, exclusive: true)
            } throws: { error in
                guard let error = error as? JournalError else { return false }
                return error.code == .inUse && error.message.contains("pid \(getpid())")
            }
            // Readers are not locked out.
            #expect(try JournalStore(directory: dir, sync: .none, readOnly: true).lastSeq == first.lastSeq)
            let pid = try String(contentsOfFile: dir + "/" + JournalStore.lockFileName, encoding: .utf8)
            #expect(pid == "\(getpid())\n")
        }
    }
}
