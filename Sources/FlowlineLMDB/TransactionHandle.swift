internal import CLMDB

/// The operations both transaction kinds share, on a live `MDB_txn`. Internal: the public transaction types are
/// `~Copyable` and scoped, and only they hold one of these.
@safe struct TransactionHandle {
    let txn: OpaquePointer

    func get(_ key: [UInt8], in db: Database) throws(LMDBError) -> [UInt8]? {
        var value = unsafe MDB_val()
        let rc = unsafe key.withUnsafeBytes { keyBytes in
            var keyVal = unsafe MDB_val(keyBytes)
            return unsafe mdb_get(txn, db.handle, &keyVal, &value)
        }
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_get")
        return unsafe [UInt8](value)
    }

    func put(_ value: [UInt8], for key: [UInt8], in db: Database, append: Bool) throws(LMDBError) {
        let flags = append ? UInt32(MDB_APPEND) : 0
        let rc = unsafe key.withUnsafeBytes { keyBytes in
            unsafe value.withUnsafeBytes { valueBytes in
                var keyVal = unsafe MDB_val(keyBytes)
                var valueVal = unsafe MDB_val(valueBytes)
                return unsafe mdb_put(txn, db.handle, &keyVal, &valueVal, flags)
            }
        }
        try check(rc, "mdb_put")
    }

    func put(_ value: [UInt8], forBigEndian key: UInt64, in db: Database, append: Bool) throws(LMDBError) {
        let flags = append ? UInt32(MDB_APPEND) : 0
        var keyBytes = key.bigEndian
        let rc = unsafe withUnsafeMutableBytes(of: &keyBytes) { keyBuffer in
            unsafe value.withUnsafeBytes { valueBytes in
                var keyVal = unsafe MDB_val(mv_size: 8, mv_data: keyBuffer.baseAddress)
                var valueVal = unsafe MDB_val(valueBytes)
                return unsafe mdb_put(txn, db.handle, &keyVal, &valueVal, flags)
            }
        }
        try check(rc, "mdb_put")
    }

    /// One cursor for all of `batch`: a positioned cursor checks the leaf page it stands on before searching from
    /// the root, and `mdb_put` would set up a cursor per entry besides.
    func put(_ batch: EntryBatch, in db: Database) throws(LMDBError) {
        guard batch.count > 0 else { return }
        let cursor = try unsafe openCursor(db)
        defer { unsafe mdb_cursor_close(cursor) }
        let rc = unsafe batch.keys.withUnsafeBytes { keys in
            for entry in batch.entries {
                let rc = unsafe entry.value.withUnsafeBytes { valueBytes in
                    var keyVal = unsafe MDB_val(UnsafeRawBufferPointer(rebasing: keys[entry.key]))
                    var valueVal = unsafe MDB_val(valueBytes)
                    return unsafe mdb_cursor_put(cursor, &keyVal, &valueVal, 0)
                }
                if rc != MDB_SUCCESS { return rc }
            }
            return MDB_SUCCESS
        }
        try check(rc, "mdb_cursor_put")
    }

    /// `values[i]` under the 8 big-endian bytes of `first + i`, with one cursor and `MDB_APPEND`: after the first
    /// append the cursor stands at the end, so the next ones skip the search for the last page.
    func append(_ values: [[UInt8]], bigEndianKeysFrom first: UInt64, in db: Database) throws(LMDBError) {
        let cursor = try unsafe openCursor(db)
        defer { unsafe mdb_cursor_close(cursor) }
        var key = first
        for value in values {
            var keyBytes = key.bigEndian
            let rc = unsafe withUnsafeMutableBytes(of: &keyBytes) { keyBuffer in
                unsafe value.withUnsafeBytes { valueBytes in
                    var keyVal = unsafe MDB_val(mv_size: 8, mv_data: keyBuffer.baseAddress)
                    var valueVal = unsafe MDB_val(valueBytes)
                    return unsafe mdb_cursor_put(cursor, &keyVal, &valueVal, UInt32(MDB_APPEND))
                }
            }
            try check(rc, "mdb_cursor_put")
            key &+= 1
        }
    }

    func delete(_ key: [UInt8], in db: Database) throws(LMDBError) -> Bool {
        let rc = unsafe key.withUnsafeBytes { keyBytes in
            var keyVal = unsafe MDB_val(keyBytes)
            return unsafe mdb_del(txn, db.handle, &keyVal, nil)
        }
        if rc == MDB_NOTFOUND { return false }
        try check(rc, "mdb_del")
        return true
    }

    /// Puts `cursor` on the first key >= `start` (the first key when nil), filling `key` and `value`.
    /// MDB_SET_RANGE points `key` at the stored key, inside the map, so the temporary buffer it was given is not
    /// used after the closure.
    private func position(
        _ cursor: OpaquePointer,
        at start: [UInt8]?,
        _ key: inout MDB_val,
        _ value: inout MDB_val
    ) -> Int32 {
        guard let start else { return unsafe mdb_cursor_get(cursor, &key, &value, MDB_FIRST) }
        return unsafe start.withUnsafeBytes { startBytes in
            unsafe key = MDB_val(startBytes)
            return unsafe mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE)
        }
    }

    func forEach(in db: Database, from start: [UInt8]?, _ body: ([UInt8], [UInt8]) throws -> Bool) throws {
        let cursor = try unsafe openCursor(db)
        defer { unsafe mdb_cursor_close(cursor) }
        var key = unsafe MDB_val()
        var value = unsafe MDB_val()
        var rc = unsafe position(cursor, at: start, &key, &value)
        // Two arrays refilled for each entry instead of two new ones: a scan of the journal allocates nothing per
        // record. A body that keeps an array keeps its own copy: the refill then finds the buffer shared and
        // allocates a new one (copy on write), so what it kept never changes.
        var keyBytes: [UInt8] = []
        var valueBytes: [UInt8] = []
        while rc == MDB_SUCCESS {
            unsafe keyBytes.refill(from: key)
            unsafe valueBytes.refill(from: value)
            guard try body(keyBytes, valueBytes) else { return }
            rc = unsafe mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
        }
        if rc != MDB_NOTFOUND { try check(rc, "mdb_cursor_get") }
    }

    /// `forEach`, with views of the key and value where they lie in the map instead of copies: nothing is copied
    /// or allocated per entry. The views are valid only inside `body` (LMDB keeps the memory valid until the
    /// transaction's next write or its end), and `Span` cannot escape it.
    func forEachInPlace(
        in db: Database,
        from start: [UInt8]?,
        _ body: (Span<UInt8>, Span<UInt8>) throws -> Bool
    ) throws {
        let cursor = try unsafe openCursor(db)
        defer { unsafe mdb_cursor_close(cursor) }
        var key = unsafe MDB_val()
        var value = unsafe MDB_val()
        var rc = unsafe position(cursor, at: start, &key, &value)
        while rc == MDB_SUCCESS {
            let keyBytes = unsafe Span(_unsafeElements: key.bytes)
            let valueBytes = unsafe Span(_unsafeElements: value.bytes)
            guard try body(keyBytes, valueBytes) else { return }
            rc = unsafe mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
        }
        if rc != MDB_NOTFOUND { try check(rc, "mdb_cursor_get") }
    }

    func forEach(
        in db: Database,
        from start: [UInt8]?,
        deleting body: ([UInt8], [UInt8]) throws -> CursorStep
    ) throws -> Int {
        let cursor = try unsafe openCursor(db)
        defer { unsafe mdb_cursor_close(cursor) }
        var key = unsafe MDB_val()
        var value = unsafe MDB_val()
        var rc = unsafe position(cursor, at: start, &key, &value)
        var keyBytes: [UInt8] = []
        var valueBytes: [UInt8] = []
        var deleted = 0
        loop: while rc == MDB_SUCCESS {
            unsafe keyBytes.refill(from: key)
            unsafe valueBytes.refill(from: value)
            switch try body(keyBytes, valueBytes) {
            case .stop: break loop
            case .keep: break
            case .delete:
                try check(unsafe mdb_cursor_del(cursor, 0), "mdb_cursor_del")
                deleted += 1
            }
            // After mdb_cursor_del the cursor stands on the deleted entry's successor, flagged so that MDB_NEXT
            // returns that successor rather than skipping it.
            rc = unsafe mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
        }
        if rc != MDB_SUCCESS && rc != MDB_NOTFOUND { try check(rc, "mdb_cursor_get") }
        return deleted
    }

    func delete(bigEndianKeys keys: [UInt64], in db: Database) throws(LMDBError) -> Int {
        guard !keys.isEmpty else { return 0 }
        let cursor = try unsafe openCursor(db)
        defer { unsafe mdb_cursor_close(cursor) }
        var deleted = 0
        for key in keys {
            var keyBytes = key.bigEndian
            let rc = unsafe withUnsafeMutableBytes(of: &keyBytes) { keyBuffer in
                var keyVal = unsafe MDB_val(mv_size: 8, mv_data: keyBuffer.baseAddress)
                var value = unsafe MDB_val()
                return unsafe mdb_cursor_get(cursor, &keyVal, &value, MDB_SET)
            }
            if rc == MDB_NOTFOUND { continue }
            try check(rc, "mdb_cursor_get")
            try check(unsafe mdb_cursor_del(cursor, 0), "mdb_cursor_del")
            deleted += 1
        }
        return deleted
    }

    func countValues(in db: Database, from start: [UInt8]?, startingWith prefix: [UInt8]) throws(LMDBError) -> Int {
        let cursor = try unsafe openCursor(db)
        defer { unsafe mdb_cursor_close(cursor) }
        var key = unsafe MDB_val()
        var value = unsafe MDB_val()
        var rc = unsafe position(cursor, at: start, &key, &value)
        var count = 0
        while rc == MDB_SUCCESS {
            if unsafe value.mv_size >= prefix.count,
                let data = unsafe value.mv_data,
                unsafe prefix.elementsEqual(UnsafeRawBufferPointer(start: data, count: prefix.count))
            {
                count += 1
            }
            rc = unsafe mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
        }
        if rc != MDB_NOTFOUND { try check(rc, "mdb_cursor_get") }
        return count
    }

    func last(in db: Database) throws(LMDBError) -> (key: [UInt8], value: [UInt8])? {
        let cursor = try unsafe openCursor(db)
        defer { unsafe mdb_cursor_close(cursor) }
        var key = unsafe MDB_val()
        var value = unsafe MDB_val()
        let rc = unsafe mdb_cursor_get(cursor, &key, &value, MDB_LAST)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_cursor_get")
        return unsafe ([UInt8](key), [UInt8](value))
    }

    func count(in db: Database) throws(LMDBError) -> Int {
        var stat = MDB_stat()
        try check(unsafe mdb_stat(txn, db.handle, &stat), "mdb_stat")
        return stat.ms_entries
    }

    private func openCursor(_ db: Database) throws(LMDBError) -> OpaquePointer {
        var cursor: OpaquePointer?
        try check(unsafe mdb_cursor_open(txn, db.handle, &cursor), "mdb_cursor_open")
        guard let cursor = unsafe cursor else { preconditionFailure("mdb_cursor_open succeeded without a handle") }
        return unsafe cursor
    }
}

extension MDB_val {
    /// Points at `bytes`, which must outlive the value. LMDB never writes through a key or value it is given
    /// (this module never passes `MDB_RESERVE`), so dropping `const` is sound.
    @unsafe init(_ bytes: UnsafeRawBufferPointer) {
        unsafe self.init(mv_size: bytes.count, mv_data: unsafe UnsafeMutableRawPointer(mutating: bytes.baseAddress))
    }
}

extension MDB_val {
    /// The bytes this value points at (an empty buffer for an empty value, whose `mv_data` may be null).
    @unsafe var bytes: UnsafeBufferPointer<UInt8> {
        unsafe UnsafeBufferPointer(start: mv_data?.assumingMemoryBound(to: UInt8.self), count: mv_size)
    }
}

extension [UInt8] {
    /// Replaces the contents with the bytes `val` points at, keeping the capacity when the buffer is not shared.
    @unsafe mutating func refill(from val: MDB_val) {
        removeAll(keepingCapacity: true)
        guard unsafe val.mv_size > 0, let data = unsafe val.mv_data else { return }
        // Typed, so that the append is one memcpy (a raw buffer is appended byte by byte).
        unsafe append(
            contentsOf: UnsafeBufferPointer(start: data.assumingMemoryBound(to: UInt8.self), count: val.mv_size)
        )
    }

    /// Copies the bytes `val` points at, which LMDB keeps valid only until the transaction's next write or its end.
    @unsafe init(_ val: MDB_val) {
        guard unsafe val.mv_size > 0, let data = unsafe val.mv_data else {
            self = []
            return
        }
        unsafe self.init(UnsafeRawBufferPointer(start: data, count: val.mv_size))
    }
}
