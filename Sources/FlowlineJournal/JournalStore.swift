internal import FlowlineLMDB

/// The journal's byte-level store: numbered event records in LMDB, indexed by workflow, plus string-keyed metadata.
///
/// Records are opaque bytes here; the event codec gives them meaning. The directory holds one LMDB environment with
/// the databases `events`, `by_workflow` and `meta` (key layout in `JournalKey`), and `meta` key `format` says which
/// layout. Loop thread only (not `Sendable`). One writer at a time; any number of read-only stores, in other
/// processes, may read while it writes (open the same directory at most once per process).
public final class JournalStore {
    /// The layout this build writes and the newest it reads. 1: every record has its `by_workflow` entry. 2: records
    /// after `meta` key `indexed_through` may lack theirs (see `indexDeferral`); a writer upgrades a 1 when it opens
    /// it, so that an older build, which would take the index for complete, refuses the journal.
    static let currentFormat = 2

    /// The directory, as given.
    public let directory: String
    /// Whether the store was opened read-only (the admin tool's `inspect` and `replay`).
    public let isReadOnly: Bool
    /// The newest record's seq, 0 when empty. A read-only store refreshes it in `stats()`.
    public private(set) var lastSeq: UInt64
    /// The write transactions committed through this store (`append`, `setMeta`).
    public private(set) var commits: UInt64 = 0
    /// Whether every commit so far is on disk, or would be if it were synced (`SyncMode.none`). False after
    /// `commit(_:durable: false)` with `SyncMode.full`, until `makeDurable` or a durable commit.
    public private(set) var isDurable = true
    let sync: SyncMode
    /// The largest map `append` grows to on `MDB_MAP_FULL`, in bytes; 64 GiB unless set.
    public var maxMapSize: Int = 64 << 30

    let environment: Environment
    /// An exclusive writer's lock on `lockFileName` in the directory: one such writer per journal, in any process.
    let lock: FileLock?
    /// The file in the journal's directory that a writer locks and writes its pid into.
    public static let lockFileName = "flowlined.lock"
    let events: Database
    let byWorkflow: Database
    let meta: Database
    /// Checkpoint records: one per workflow, keyed by its id.
    let snapshots: Database
    /// The `by_workflow` entries of the batch being committed; kept so that its buffers are reused.
    var indexBatch = EntryBatch()
    /// How many records may wait for their `by_workflow` entries; 0 (the default) has every commit write its own.
    ///
    /// The daemon defers them because the index's leaf page is one more page for a small commit to sync: on the
    /// development disk a synced commit of one record took 234–312 µs at p50 and 287–425 µs with its index entry
    /// (`tools/probes/lmdb_commit_cost.c`). Deferred entries are written by the first commit that would take them
    /// past this count, purges or writes a checkpoint, and by `append`. Meanwhile `meta` key `indexed_through`
    /// holds the seq after which records may lack entries: readers scan those records, and a writer that opens
    /// the journal indexes them first, so a crash loses no entry. No key: every record is indexed.
    public var indexDeferral = 0
    /// Workflow ids and seqs of committed records whose `by_workflow` entries are not written yet.
    var pendingIndex: [(workflowID: String, seq: UInt64)] = []
    static let indexedThroughKey = Array("indexed_through".utf8)

    /// Opens the journal in `directory`, creating the directory (like `mkdir -p`) and an empty journal if needed.
    ///
    /// - Parameters:
    ///   - sync: whether each commit is flushed to disk.
    ///   - mapSize: the initial map size in bytes; `append` doubles it when full, up to `maxMapSize`.
    ///   - maxMapSize: `maxMapSize`. The write that opens a writer may grow the map past it, once it is full: a
    ///     journal this store wrote must open again, whatever its size.
    ///   - readOnly: opens an existing journal for reading only, beside a writer that may have it open.
    ///   - exclusive: for a writer, first locks `lockFileName` (and writes its pid there), so that a second
    ///     exclusive writer, in any process, is refused (the daemon's). The lock is an open file description: a
    ///     child forked (without exec) while it is held holds it too.
    /// - Throws: `JournalError` with `.unsupportedFormat` for a journal of a newer format, `.corrupt` for files that
    ///   are not a Flowline journal or a `data.mdb` shorter than its meta page says, `.inUse` when `exclusive` and
    ///   another writer holds the lock (the message names its pid), `.storage` when LMDB cannot open it (missing
    ///   directory when read-only, no permission).
    public init(
        directory: String,
        sync: SyncMode,
        mapSize: Int = 1 << 30,
        maxMapSize: Int = 64 << 30,
        readOnly: Bool = false,
        exclusive: Bool = false
    ) throws(JournalError) {
        self.directory = directory
        self.isReadOnly = readOnly
        self.sync = sync
        self.maxMapSize = maxMapSize
        do {
            self.lock = readOnly || !exclusive ? nil : try Self.lock(directory)
            let environment = try Environment(
                path: directory,
                mapSize: mapSize,
                maxDatabases: 8,
                readOnly: readOnly,
                noSync: sync == .none,
                // Commits sync their data pages and leave the meta page for the next commit's sync or
                // `makeDurable`: see `commit(_:durable:)`.
                noMetaSync: sync == .full,
                // Without syncs a commit's cost is its system calls: LMDB's `pwrite` per dirty page and the meta
                // page's, which a writable map leaves out (W3 --sync none, README "Performance").
                writableMap: sync == .none
            )
            let meta = try Self.open("meta", in: environment, create: !readOnly)
            // The format decides whether the other databases mean what we think, so check it before touching them.
            let format = try lmdb { try environment.read { txn in try txn.get(Self.formatKey, in: meta) } }
            try Self.checkFormat(format, directory: directory)
            let events = try Self.open("events", in: environment, create: !readOnly)
            if format == nil && !readOnly {
                try Self.initializeFormat(in: environment, events: events, meta: meta, directory: directory)
            }
            self.byWorkflow = try Self.open("by_workflow", in: environment, create: !readOnly)
            self.snapshots = try Self.open("snapshots", in: environment, create: !readOnly)
            self.lastSeq = try Self.lastSeq(of: events, in: environment)
            self.environment = environment
            self.events = events
            self.meta = meta
            if !readOnly { try prepareForWriting() }
        } catch let error as LMDBError {
            throw JournalError(error)
        } catch let error as JournalError {
            throw error
        } catch {
            preconditionFailure("opening the journal threw \(error)")
        }
    }

    // MARK: - Writing

    /// Appends `records` in one write transaction (group commit), numbering them `lastSeq + 1`, `lastSeq + 2`, ...
    ///
    /// Returns the first seq assigned, or `nil` for no records (then no transaction is made). When the map is full it
    /// doubles the map (up to `maxMapSize`) and retries once. On any error nothing was written and `lastSeq` is
    /// unchanged; `isOutOfSpace` tells the map at `maxMapSize` or a full disk. Writing to a read-only store traps,
    /// and so does appending from inside a `scan` body (growing the map needs every transaction closed).
    public func append(_ records: [(workflowID: String, bytes: [UInt8])]) throws(JournalError) -> UInt64? {
        guard !records.isEmpty else { return nil }
        precondition(!isReadOnly, "JournalStore.append on the read-only journal at \(directory)")
        let first = lastSeq + 1
        do throws(LMDBError) {
            try growingMap { () throws(LMDBError) in
                try lmdb {
                    try environment.write(reserving: Self.reserve(records: records)) { txn in
                        try putRecords(records, from: first, in: txn)
                    }
                }
            }
        } catch {
            throw JournalError(error)
        }
        didPutRecords(records, from: first, deferringIndex: false)
        lastSeq = first + UInt64(records.count - 1)
        commits += 1
        try didCommit(durable: true)
        return first
    }

    /// Stores `value` under the metadata `key` in a transaction of its own. Traps on a read-only store.
    public func setMeta(_ key: String, _ value: [UInt8]) throws(JournalError) {
        precondition(!isReadOnly, "JournalStore.setMeta on the read-only journal at \(directory)")
        do throws(LMDBError) {
            try growingMap { () throws(LMDBError) in
                try lmdb { try environment.write { txn in try txn.put(value, for: Array(key.utf8), in: meta) } }
            }
        } catch {
            throw JournalError(error)
        }
        commits += 1
        try didCommit(durable: true)
    }

    /// Whether a commit adding about `bytes` may fit, asked without writing: the disk has room for it
    /// (`Environment.hasDiskRoom`) and so has the map, or the map may still grow. Cheap enough to ask before each
    /// write while the journal is full; a commit may still fail when it says yes (pages LMDB copies are not counted),
    /// and one that says no may have fitted in pages LMDB freed inside the map.
    public func hasRoom(for bytes: Int = 64 << 10) -> Bool {
        guard !isReadOnly else { return false }
        let mapRoom = environment.mapSize < maxMapSize || environment.usedSize + 2 * bytes <= environment.mapSize
        return mapRoom && environment.hasDiskRoom(for: bytes)
    }

    /// Notes a commit: with `SyncMode.full` its meta page is not synced yet, which `durable` does now.
    func didCommit(durable: Bool) throws(JournalError) {
        guard sync == .full else { return }
        isDurable = false
        if durable { try makeDurable() }
    }

    /// With `SyncMode.full`, syncs the data file, so that the last commit's meta page, which names it the newest,
    /// is on disk; a no-op when `isDurable`. A failure leaves `isDurable` false.
    public func makeDurable() throws(JournalError) {
        guard !isDurable else { return }
        do throws(LMDBError) {
            try environment.sync(force: false)
        } catch {
            throw JournalError(error)
        }
        isDurable = true
    }

    /// Flushes committed records to disk, also with `SyncMode.none` (for a clean shutdown).
    public func flush() throws(JournalError) {
        do throws(LMDBError) {
            try environment.sync(force: true)
        } catch {
            throw JournalError(error)
        }
        isDurable = true
    }

    // MARK: - Reading

    /// Calls `body` with each record from `seq` on, in seq order, until it returns `false`, in one read transaction.
    /// Rethrows `body`'s errors as they are; storage failures throw `JournalError`.
    public func scan(from seq: UInt64 = 1, _ body: (UInt64, [UInt8]) throws -> Bool) throws {
        do {
            try environment.read { txn in
                try txn.forEach(in: events, from: JournalKey.seq(seq)) { key, value in
                    guard let seq = JournalKey.seq(decoding: key) else { throw Self.badKey(key, in: "events") }
                    return try body(seq, value)
                }
            }
        } catch let error as LMDBError {
            throw JournalError(error)
        }
    }

    /// The records of workflow `id`, in seq order: those `by_workflow` names, then those after `indexed_through`
    /// (at most `indexDeferral` and a commit's worth), found by decoding each.
    public func records(ofWorkflow id: String) throws(JournalError) -> [(seq: UInt64, bytes: [UInt8])] {
        try records(ofWorkflows: [id])[0]
    }

    /// `records(ofWorkflow:)` for each of `ids`, from one read transaction that scans the unindexed tail once for
    /// all of them (once per workflow, a check of every workflow would decode the tail as many times).
    public func records(ofWorkflows ids: [String]) throws(JournalError) -> [[(seq: UInt64, bytes: [UInt8])]] {
        let maxKeySize = environment.maxKeySize
        return try journalOperation {
            try environment.read { txn in
                var seqs: [[UInt64]] = []
                seqs.reserveCapacity(ids.count)
                for id in ids {
                    let workflow = JournalKey.Workflow(id, maxKeySize: maxKeySize)
                    var found: [UInt64] = []
                    try txn.forEach(in: byWorkflow, from: workflow.prefix) { key, value in
                        guard key.starts(with: workflow.prefix) else { return false }
                        if let seq = workflow.seq(ofKey: key, value: value) { found.append(seq) }
                        return true
                    }
                    seqs.append(found)
                }
                guard let through = try Self.indexedThrough(try txn.get(Self.indexedThroughKey, in: meta)) else {
                    return try seqs.map { found in try found.map { seq in try record(seq, in: txn) } }
                }
                var position: [String: Int] = [:]
                for (index, id) in ids.enumerated() where position[id] == nil { position[id] = index }
                var tails = [[(seq: UInt64, bytes: [UInt8])]](repeating: [], count: ids.count)
                try txn.forEach(in: events, from: JournalKey.seq(through &+ 1)) { key, value in
                    let record = try Self.unindexed(key: key, value: value)
                    if let index = position[record.workflowID] { tails[index].append((record.seq, value)) }
                    return true
                }
                return try ids.indices.map { index in
                    // An entry past `indexed_through` can only repeat a record the scan found.
                    let indexed = try seqs[index].filter { $0 <= through }.map { seq in try record(seq, in: txn) }
                    return indexed + tails[position[ids[index]] ?? index]
                }
            }
        }
    }

    private func record(_ seq: UInt64, in txn: borrowing ReadTransaction) throws -> (seq: UInt64, bytes: [UInt8]) {
        guard let bytes = try txn.get(JournalKey.seq(seq), in: events) else {
            throw JournalError(.corrupt, "by_workflow names missing record \(seq) in \(directory)")
        }
        return (seq, bytes)
    }

    /// The metadata value under `key`, or `nil`.
    public func meta(_ key: String) throws(JournalError) -> [UInt8]? {
        try journalOperation { try environment.read { txn in try txn.get(Array(key.utf8), in: meta) } }
    }

    /// Sizes and counts, from one read transaction. A read-only store also refreshes `lastSeq` from it.
    public func stats() throws(JournalError) -> JournalStats {
        let (count, first, last) = try journalOperation {
            try environment.read { txn in
                var first: UInt64?
                try txn.forEach(in: events) { key, _ in
                    first = JournalKey.seq(decoding: key)
                    return false
                }
                let last = try txn.last(in: events).map { try Self.seq(ofKey: $0.key) } ?? 0
                return (try txn.count(in: events), first, last)
            }
        }
        if isReadOnly { lastSeq = last }
        return JournalStats(
            fileBytes: environment.usedSize,
            mapBytes: environment.mapSize,
            events: count,
            firstSeq: first,
            lastSeq: last,
            commits: commits
        )
    }

    // MARK: - Private

    private static let formatKey = Array("format".utf8)

    /// Runs a write; while the map is full, doubles it (up to `limit`, `maxMapSize` unless given) and runs it again.
    func growingMap(limit: Int? = nil, _ write: () throws(LMDBError) -> Void) throws(LMDBError) {
        let limit = limit ?? maxMapSize
        while true {
            do throws(LMDBError) {
                return try write()
            } catch  where error.isMapFull && environment.mapSize < limit {
                try grow(limit: limit)
            }
        }
    }

    /// Doubles the map, up to `limit`.
    private func grow(limit: Int) throws(LMDBError) {
        let doubled = environment.mapSize.multipliedReportingOverflow(by: 2)
        try environment.setMapSize(doubled.overflow ? limit : min(doubled.partialValue, limit))
    }

    /// Takes the writer's lock on the journal in `directory`, creating the directory if needed.
    private static func lock(_ directory: String) throws(JournalError) -> FileLock {
        do throws(LMDBError) {
            try Environment.makeDirectories(directory)
        } catch {
            throw JournalError(error)
        }
        let path = directory + "/" + lockFileName
        do throws(FileLock.Failure) {
            return try FileLock(path: path)
        } catch {
            switch error {
            case .held(let pid):
                let holder = pid.map { "flowlined pid \($0)" } ?? "another process"
                throw JournalError(.inUse, "\(directory) is in use by \(holder) (it holds the lock on \(path))")
            case .system(let call, let code):
                throw JournalError(LMDBError(call: call, code: code))
            }
        }
    }

    /// What a write of `records` may add to the data file, for `Environment.write(reserving:)`: pages filled half
    /// after splits, plus the index entries.
    static func reserve(records: [(workflowID: String, bytes: [UInt8])]) -> Int {
        var bytes = 0
        for record in records { bytes += 2 * record.bytes.count + 128 }
        return bytes
    }

    /// Counts a commit made outside `append`.
    func didCommit(lastSeq: UInt64) {
        self.lastSeq = lastSeq
        commits += 1
    }

    /// Puts `records` as seqs `first`, `first + 1`, ... with their `by_workflow` entries and the deferred ones, or,
    /// when `deferringIndex`, without any (see `indexDeferral`). `didPutRecords` must follow a successful commit.
    func putRecords(
        _ records: [(workflowID: String, bytes: [UInt8])],
        from first: UInt64,
        in txn: borrowing WriteTransaction,
        deferringIndex: Bool = false
    ) throws(LMDBError) {
        if !records.isEmpty {
            // Seqs only grow, so every record key sorts last: MDB_APPEND skips the search and fills pages.
            try txn.append(records.map(\.bytes), bigEndianKeysFrom: first, in: events)
        }
        if deferringIndex {
            // The first deferred record starts the unindexed tail.
            if pendingIndex.isEmpty && !records.isEmpty {
                try txn.put(JournalKey.seq(first - 1), for: Self.indexedThroughKey, in: meta)
            }
            return
        }
        guard !records.isEmpty || !pendingIndex.isEmpty else { return }
        // The index keys lead with the workflow id, so a turn's entries land all over the tree. Sorted, they come
        // in page order, and one cursor then finds most of them on the leaf page it already stands on instead of
        // searching from the root for each (LMDB stores the same entries whatever the order of the puts).
        let maxKeySize = environment.maxKeySize
        // Taken out of the store while it is filled: a stored property of a class is checked for exclusive access
        // at every mutation.
        var batch = indexBatch
        indexBatch = EntryBatch()
        defer { indexBatch = batch }
        batch.removeAll()
        for (id, seq) in pendingIndex {
            batch.append { key in JournalKey.appendIndex(id, seq: seq, maxKeySize: maxKeySize, to: &key) }
        }
        var seq = first
        for record in records {
            let id = record.workflowID
            batch.append { key in JournalKey.appendIndex(id, seq: seq, maxKeySize: maxKeySize, to: &key) }
            seq += 1
        }
        batch.sortByKey()
        try txn.put(batch, in: byWorkflow)
        if !pendingIndex.isEmpty { _ = try txn.delete(Self.indexedThroughKey, in: meta) }
    }

    /// Notes what a committed `putRecords` left unindexed.
    func didPutRecords(_ records: [(workflowID: String, bytes: [UInt8])], from first: UInt64, deferringIndex: Bool) {
        guard deferringIndex else { return pendingIndex.removeAll(keepingCapacity: true) }
        var seq = first
        for record in records {
            pendingIndex.append((record.workflowID, seq))
            seq += 1
        }
    }

    /// Whether a commit of `records` may leave their index entries for later (see `indexDeferral`).
    func mayDeferIndex(of records: Int) -> Bool { pendingIndex.count + records < indexDeferral }

    /// `indexed_through`'s value, or nil when every record is indexed.
    static func indexedThrough(_ value: [UInt8]?) throws(JournalError) -> UInt64? {
        guard let value else { return nil }
        guard let seq = JournalKey.seq(decoding: value) else {
            throw JournalError(.corrupt, "meta key indexed_through holds \(value.count) bytes, not a seq")
        }
        return seq
    }

    /// The seq and workflow id of a record past `indexed_through`, which has no index entry to say them.
    private static func unindexed(key: [UInt8], value: [UInt8]) throws -> (seq: UInt64, workflowID: String) {
        guard let seq = JournalKey.seq(decoding: key) else { throw badKey(key, in: "events") }
        return (seq, try EventCodec.workflowID(of: value))
    }

    /// Upgrades format 1, then writes the `by_workflow` entries of the records after `indexed_through` (a writer
    /// that stopped with entries deferred), decoding each record for its workflow id, and drops the key.
    private func prepareForWriting() throws(JournalError) {
        // The map may be no larger than the pages in use (LMDB opens with at least those), so this write, too,
        // grows it when full, past `maxMapSize` if need be: refusing it would keep the daemon from starting.
        let limit = max(maxMapSize, environment.mapSize.multipliedReportingOverflow(by: 2).partialValue)
        try journalOperation {
            // Not `growingMap`: the body also throws `JournalError` (a record that breaks the layout).
            while true {
                do {
                    return try prepareIndex()
                } catch let error as LMDBError where error.isMapFull && environment.mapSize < limit {
                    try grow(limit: limit)
                }
            }
        }
        // Also the format's first writing, by `initializeFormat`.
        try didCommit(durable: true)
    }

    private func prepareIndex() throws {
        try environment.write { txn in
            if try txn.get(Self.formatKey, in: meta) != Array(String(Self.currentFormat).utf8) {
                try txn.put(Array(String(Self.currentFormat).utf8), for: Self.formatKey, in: meta)
            }
            guard let through = try Self.indexedThrough(try txn.get(Self.indexedThroughKey, in: meta)) else {
                return
            }
            let maxKeySize = environment.maxKeySize
            var batch = EntryBatch()
            try txn.forEach(in: events, from: JournalKey.seq(through &+ 1)) { key, value in
                let (seq, id) = try Self.unindexed(key: key, value: value)
                batch.append { key in JournalKey.appendIndex(id, seq: seq, maxKeySize: maxKeySize, to: &key) }
                return true
            }
            batch.sortByKey()
            try txn.put(batch, in: byWorkflow)
            _ = try txn.delete(Self.indexedThroughKey, in: meta)
        }
    }

    private static func initializeFormat(
        in environment: Environment,
        events: Database,
        meta: Database,
        directory: String
    ) throws(JournalError) {
        try journalOperation {
            try environment.write { txn in
                // A journal with records but no format was not written by Flowline; do not adopt it.
                guard try txn.count(in: events) == 0 else {
                    throw JournalError(.corrupt, "\(directory) holds records but no journal format")
                }
                try txn.put(Array(String(currentFormat).utf8), for: formatKey, in: meta)
            }
        }
    }

    private static func open(_ name: String, in environment: Environment, create: Bool) throws(LMDBError) -> Database {
        do throws(LMDBError) {
            return try environment.openDatabase(name, create: create)
        } catch  where error.isNotFound {
            throw LMDBError(call: "mdb_dbi_open(\(name))", code: error.code)
        }
    }

    private static func checkFormat(_ bytes: [UInt8]?, directory: String) throws(JournalError) {
        guard let bytes else { return }
        guard let format = Int(String(decoding: bytes, as: UTF8.self)), format >= 1 else {
            throw JournalError(.corrupt, "\(directory) has an unreadable journal format")
        }
        guard format <= currentFormat else {
            throw JournalError(
                .unsupportedFormat,
                "\(directory) has journal format \(format); this build reads up to \(currentFormat)"
            )
        }
    }

    private static func lastSeq(of events: Database, in environment: Environment) throws(JournalError) -> UInt64 {
        try journalOperation { try environment.read { txn in try txn.last(in: events).map { try seq(ofKey: $0.key) } } }
            ?? 0
    }

    private static func seq(ofKey key: [UInt8]) throws(JournalError) -> UInt64 {
        guard let seq = JournalKey.seq(decoding: key) else { throw badKey(key, in: "events") }
        return seq
    }

    private static func badKey(_ key: [UInt8], in database: String) -> JournalError {
        JournalError(.corrupt, "a key of \(key.count) bytes in \(database), where 8 are expected")
    }
}

/// Runs LMDB work whose closures throw only `LMDBError`.
private func lmdb<R>(_ work: () throws -> R) throws(LMDBError) -> R {
    do {
        return try work()
    } catch let error as LMDBError {
        throw error
    } catch {
        preconditionFailure("LMDB work threw \(error)")
    }
}

/// Runs journal work whose closures throw `LMDBError` or `JournalError`, as a `JournalError`.
func journalOperation<R>(_ work: () throws -> R) throws(JournalError) -> R {
    do {
        return try work()
    } catch let error as JournalError {
        throw error
    } catch let error as LMDBError {
        throw JournalError(error)
    } catch {
        preconditionFailure("journal work threw \(error)")
    }
}
