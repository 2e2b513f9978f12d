internal import Dispatch

extension ReadTransaction {
    /// Runs `forEach` on a second thread while the calling thread runs `work`: `body` gets each key and value of
    /// `db` from the first key >= `key` (or the first key), on that thread, until it returns `false`, as views into
    /// the map that are valid only during that call (nothing is copied per entry); then `end`
    /// gets, on that thread too, what stopped it: `nil` (the last entry, or `false`), or what `body` threw, or an
    /// `LMDBError` from `mdb_cursor_get`. How `body` and `work` talk (a queue one fills and the other drains) is
    /// the caller's business. Rethrows what `work` threw. `state` makes a value on that thread before the first
    /// entry; `body` and `end` get it `inout`, and it is destroyed there after `end`: what only that thread uses (a
    /// batch being filled, a cache) is kept across entries without a lock.
    ///
    /// Returns only after `end` has run, also when `work` throws (so a `body` that waits for `work` must be told to
    /// stop first): the transaction is used by the second thread only until then, and by nobody else meanwhile. The
    /// environment is opened with `MDB_NOTLS`, so a read transaction may move between threads.
    public func forEachConcurrently<State>(
        in db: Database,
        from key: [UInt8]? = nil,
        state makeState: @escaping @Sendable () -> State,
        _ body: @escaping @Sendable (_ state: inout State, _ key: Span<UInt8>, _ value: Span<UInt8>) throws -> Bool,
        end: @escaping @Sendable (_ state: inout State, (any Error)?) -> Void,
        while work: () throws -> Void
    ) throws {
        let reader = SendableHandle(handle: handle)
        let finished = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            defer { finished.signal() }
            var state = makeState()
            do {
                try reader.handle.forEachInPlace(in: db, from: key) { key, value in try body(&state, key, value) }
                end(&state, nil)
            } catch {
                end(&state, error)
            }
        }
        defer { finished.wait() }
        try work()
    }
}

/// The transaction handed to the reading thread. The caller of `forEachConcurrently` does not return (and so
/// cannot end the transaction) until that thread is done, and reads nothing through it meanwhile.
private struct SendableHandle: @unchecked Sendable {
    let handle: TransactionHandle
}
