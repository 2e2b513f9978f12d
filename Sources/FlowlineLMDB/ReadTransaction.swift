/// A read transaction (a snapshot of the last commit), lent to the body of `Environment.read` and unusable outside
/// it.
///
/// Values read through it are copies, so they stay valid after the transaction. A long-lived read transaction keeps
/// the pages of its snapshot from being reused, so keep bodies short.
@safe public struct ReadTransaction: ~Copyable {
    let handle: TransactionHandle

    /// The value stored under `key`, or `nil` (`mdb_get`).
    public func get(_ key: [UInt8], in db: Database) throws(LMDBError) -> [UInt8]? {
        try handle.get(key, in: db)
    }

    /// Calls `body` with each key and value of `db` in ascending key order, starting at the first key >= `key` (or
    /// the first key), until `body` returns `false`.
    public func forEach(in db: Database, from key: [UInt8]? = nil, _ body: ([UInt8], [UInt8]) throws -> Bool) throws {
        try handle.forEach(in: db, from: key, body)
    }

    /// How many values of `db`, from the first key >= `key` (or the first key) on, start with `prefix`, counted
    /// in place (no value is copied).
    public func countValues(
        in db: Database,
        from key: [UInt8]? = nil,
        startingWith prefix: [UInt8]
    ) throws(LMDBError)
        -> Int
    {
        try handle.countValues(in: db, from: key, startingWith: prefix)
    }

    /// The last (largest) key of `db` and its value, or `nil` when `db` is empty.
    public func last(in db: Database) throws(LMDBError) -> (key: [UInt8], value: [UInt8])? {
        try handle.last(in: db)
    }

    /// The number of keys in `db` (`mdb_stat`'s `ms_entries`).
    public func count(in db: Database) throws(LMDBError) -> Int {
        try handle.count(in: db)
    }
}
