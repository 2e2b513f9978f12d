/// A write transaction, lent to the body of `Environment.write` and unusable outside it.
///
/// Values read through it are copies, so they stay valid after the transaction. Loop thread only.
@safe public struct WriteTransaction: ~Copyable {
    let handle: TransactionHandle

    /// Stores `value` under `key`, replacing any value there (`mdb_put`).
    ///
    /// With `append` (`MDB_APPEND`), `key` must sort after every key of `db`, which makes bulk loading in key order
    /// cheap; otherwise it throws `MDB_KEYEXIST`. Throws `MDB_MAP_FULL` (`isOutOfSpace`) when the map is full, after
    /// which the transaction can only be aborted (throw out of the body), and `MDB_BAD_VALSIZE` for an empty key or
    /// one longer than `Environment.maxKeySize`.
    public func put(_ value: [UInt8], for key: [UInt8], in db: Database, append: Bool = false) throws(LMDBError) {
        try handle.put(value, for: key, in: db, append: append)
    }

    /// `put(_:for:in:append:)` with the 8 bytes of `key`, most significant first, as the key: for integer keys
    /// that sort numerically, without an array per key.
    public func put(
        _ value: [UInt8],
        forBigEndian key: UInt64,
        in db: Database,
        append: Bool = false
    )
        throws(LMDBError)
    {
        try handle.put(value, forBigEndian: key, in: db, append: append)
    }

    /// Stores every entry of `batch`, in its order, replacing any value there: as `put(_:for:in:)` per entry, with
    /// one cursor (`mdb_cursor_put`). A positioned cursor looks at its own leaf page before searching from the root,
    /// so a batch sorted by key (`EntryBatch.sortByKey()`) mostly skips the search. Throws as `put(_:for:in:)`; the
    /// entries before a failing one are stored, and the transaction should then be aborted.
    public func put(_ batch: EntryBatch, in db: Database) throws(LMDBError) {
        try handle.put(batch, in: db)
    }

    /// Stores `values` under the 8-byte big-endian keys `first`, `first + 1`, ..., which must sort after every key
    /// of `db` (`MDB_APPEND`, else `MDB_KEYEXIST`): `put(_:forBigEndian:in:append:)` per value, with one cursor.
    public func append(_ values: [[UInt8]], bigEndianKeysFrom first: UInt64, in db: Database) throws(LMDBError) {
        try handle.append(values, bigEndianKeysFrom: first, in: db)
    }

    /// The value stored under `key`, or `nil` (`mdb_get`). Sees this transaction's own writes.
    public func get(_ key: [UInt8], in db: Database) throws(LMDBError) -> [UInt8]? {
        try handle.get(key, in: db)
    }

    /// Deletes `key`; returns whether it was there (`mdb_del`).
    public func delete(_ key: [UInt8], in db: Database) throws(LMDBError) -> Bool {
        try handle.delete(key, in: db)
    }

    /// Calls `body` with each key and value of `db` in ascending key order, starting at the first key >= `key` (or
    /// the first key), until `body` returns `false`. `body` may write to the transaction, but a write to `db` after
    /// the current position is seen or not as LMDB's cursor finds it.
    public func forEach(in db: Database, from key: [UInt8]? = nil, _ body: ([UInt8], [UInt8]) throws -> Bool) throws {
        try handle.forEach(in: db, from: key, body)
    }

    /// `forEach(in:from:_:)` whose `body` says, for each entry, whether to delete it (`mdb_cursor_del`), keep it, or
    /// stop. Deleting through the cursor saves the B-tree search a `delete(_:in:)` per key makes. Returns the number
    /// of entries deleted.
    @discardableResult
    public func forEach(
        in db: Database,
        from key: [UInt8]? = nil,
        deleting body: ([UInt8], [UInt8]) throws -> CursorStep
    ) throws -> Int {
        try handle.forEach(in: db, from: key, deleting: body)
    }

    /// Deletes each key of `keys`, taken as the 8 bytes most significant first, that `db` holds; returns how many
    /// were there. One cursor does all: in ascending order, keys that share a leaf page skip the search from the
    /// root, so a sorted batch costs far less than a `delete(_:in:)` per key. Any order is correct.
    @discardableResult
    public func delete(bigEndianKeys keys: [UInt64], in db: Database) throws(LMDBError) -> Int {
        try handle.delete(bigEndianKeys: keys, in: db)
    }

    /// The last (largest) key of `db` and its value, or `nil` when `db` is empty.
    public func last(in db: Database) throws(LMDBError) -> (key: [UInt8], value: [UInt8])? {
        try handle.last(in: db)
    }

    /// The number of keys in `db` (`mdb_stat`'s `ms_entries`), this transaction's writes included.
    public func count(in db: Database) throws(LMDBError) -> Int {
        try handle.count(in: db)
    }
}

/// What `WriteTransaction.forEach(in:from:deleting:)` does with the entry it shows and where it goes next.
public enum CursorStep: Sendable {
    /// Delete the entry and go on to the next.
    case delete
    /// Keep the entry and go on to the next.
    case keep
    /// Keep the entry and end the walk.
    case stop
}
