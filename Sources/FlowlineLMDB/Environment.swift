internal import CLMDB
internal import Glibc

/// An open LMDB environment: one directory holding `data.mdb` and `lock.mdb`.
///
/// Loop thread only: the class is not `Sendable`, and its transactions are scoped to the closures of `write` and
/// `read`. The environment is opened with `MDB_NOTLS`, so read transactions are not tied to a thread's local storage.
/// Do not open the same directory twice in one process (LMDB's rule: closing one environment would drop the
/// process's POSIX locks of the other); other processes may open it at the same time, readers never block writers.
@safe public final class Environment {
    private let env: OpaquePointer
    /// The directory, as given.
    public let path: String
    /// Whether the environment was opened with `MDB_RDONLY`.
    public let isReadOnly: Bool
    /// Whether LMDB writes pages through a writable map (`MDB_WRITEMAP`) instead of `pwrite`.
    public let usesWritableMap: Bool
    private var openTransactions = 0
    private var isWriting = false
    /// With a writable map: the bytes at the start of `data.mdb` known to have their disk blocks.
    private var allocatedBytes = 0
    private let pageSize: Int

    /// Opens the environment in the directory `path`, creating the directory (like `mkdir -p`) and its `data.mdb`
    /// if needed, unless `readOnly`.
    ///
    /// - Parameters:
    ///   - mapSize: the map size in bytes, the most the data file may grow to until `setMapSize` (LMDB rounds it to
    ///     pages, and uses at least the size already in use).
    ///   - maxDatabases: how many named databases may be opened.
    ///   - readOnly: `MDB_RDONLY`: no write transactions; the directory must hold an environment already.
    ///   - noSync: `MDB_NOSYNC`: commits do not flush to disk (a system crash may lose the last commits, a process
    ///     crash does not).
    ///   - noMetaSync: `MDB_NOMETASYNC`: a commit syncs its data pages but only writes the meta page that makes it
    ///     the newest; the next commit's data sync, or `sync`, makes it durable. A system crash before then
    ///     undoes that one commit, and leaves the environment whole.
    ///   - writableMap: `MDB_WRITEMAP` (ignored when `readOnly`): a commit writes its pages through the map, with no
    ///     `pwrite` per page. Only worth it with `noSync`: a synced commit then flushes with `msync`, which is slower.
    ///     LMDB sizes `data.mdb` to the map, sparsely; see `write` for how a full disk stays an error.
    /// - Throws: `mkdir`, `mdb_env_create`, `mdb_env_set_mapsize`, `mdb_env_set_maxdbs` or `mdb_env_open` codes,
    ///   such as `ENOENT`, `EACCES`, `MDB_INVALID` (not an LMDB file) or `MDB_VERSION_MISMATCH`, and
    ///   `posix_fallocate`'s `ENOSPC` with `writableMap`.
    public init(
        path: String,
        mapSize: Int,
        maxDatabases: Int = 8,
        readOnly: Bool = false,
        noSync: Bool = false,
        noMetaSync: Bool = false,
        writableMap: Bool = false
    ) throws(LMDBError) {
        if !readOnly { try Self.makeDirectories(path) }
        // Before LMDB maps the file: a writable map would first extend a cut file with zeros, and a read past its
        // end is SIGBUS.
        let fileSize = try Self.checkDataFile(in: path)
        // A map smaller than the file (it grew at run time, or LMDB sized it to the map) would leave the first
        // write transaction no room; and with a writable map LMDB would cut the file down to the map.
        let mapSize = max(mapSize, fileSize)
        var handle: OpaquePointer?
        try check(unsafe mdb_env_create(&handle), "mdb_env_create")
        guard let handle = unsafe handle else { preconditionFailure("mdb_env_create succeeded without a handle") }
        var flags = UInt32(MDB_NOTLS)
        if readOnly { flags |= UInt32(MDB_RDONLY) }
        if noSync { flags |= UInt32(MDB_NOSYNC) }
        if noMetaSync { flags |= UInt32(MDB_NOMETASYNC) }
        let writableMap = writableMap && !readOnly
        if writableMap { flags |= UInt32(MDB_WRITEMAP) }
        var stat = MDB_stat()
        do {
            try check(unsafe mdb_env_set_mapsize(handle, mapSize), "mdb_env_set_mapsize")
            try check(unsafe mdb_env_set_maxdbs(handle, MDB_dbi(maxDatabases)), "mdb_env_set_maxdbs")
            try check(unsafe mdb_env_open(handle, path, flags, 0o644), "mdb_env_open")
            try check(unsafe mdb_env_stat(handle, &stat), "mdb_env_stat")
        } catch {
            // LMDB requires closing the handle of an environment that failed to open.
            unsafe mdb_env_close(handle)
            throw error
        }
        unsafe self.env = handle
        self.path = path
        self.isReadOnly = readOnly
        self.usesWritableMap = writableMap
        self.pageSize = Int(stat.ms_psize)
        try allocate(beyondUse: 0)
    }

    deinit {
        // Transactions cannot outlive their closures, so none is open here; the database handles close with it.
        unsafe mdb_env_close(env)
    }

    // MARK: - Databases

    /// Opens the named database, creating it when `create` (and it is missing), in a transaction of its own: a write
    /// transaction, or a read transaction when the environment is read-only and `create` is false.
    ///
    /// The handle stays valid as long as this environment. Throws `MDB_NOTFOUND` (`isNotFound`) for a missing database
    /// without `create`, `MDB_DBS_FULL` past `maxDatabases`, and `EACCES` for `create` in a read-only environment.
    public func openDatabase(_ name: String, create: Bool) throws(LMDBError) -> Database {
        let useReadTransaction = isReadOnly && !create
        let txn = try unsafe begin(readOnly: useReadTransaction)
        var dbi: MDB_dbi = 0
        let rc = unsafe mdb_dbi_open(txn, name, create ? UInt32(MDB_CREATE) : 0, &dbi)
        guard rc == MDB_SUCCESS else {
            unsafe abort(txn, readOnly: useReadTransaction)
            throw LMDBError(call: "mdb_dbi_open", code: rc)
        }
        // Committing (even a read transaction) keeps the new handle in the environment; aborting would close it.
        try unsafe commit(txn, readOnly: useReadTransaction)
        return Database(handle: dbi)
    }

    // MARK: - Transactions

    /// Runs `body` in one write transaction: commits when it returns, aborts when it throws.
    ///
    /// Loop thread only; one write transaction at a time (a nested `write` is a bug and traps). The transaction
    /// cannot outlive `body`. Throws what `body` throws, or an `LMDBError` from `mdb_txn_begin` (`EACCES` when
    /// read-only) or `mdb_txn_commit` (`ENOSPC`, `EIO`, `MDB_MAP_FULL`); after a failed commit nothing was written.
    ///
    /// With a writable map, LMDB writes a page by storing into the map, and a store into a hole of the sparse
    /// file that the disk has no room for kills the process with `SIGBUS` instead of failing with `ENOSPC`. So
    /// before the transaction begins, the file is given disk blocks (`posix_fallocate`) past the pages in use, by
    /// at least `reserving` bytes (what the caller may add, with the B-tree's slack) and a margin; a full disk then
    /// throws `ENOSPC` here, before anything was written.
    @available(*, noasync, message: "an LMDB transaction must not span a suspension point")
    public func write<R>(reserving: Int = 0, _ body: (borrowing WriteTransaction) throws -> R) throws -> R {
        precondition(!isWriting, "Environment.write called inside another write transaction of \(path)")
        try allocate(beyondUse: reserving)
        let txn = try unsafe begin(readOnly: false)
        let result: R
        do {
            result = try body(unsafe WriteTransaction(handle: TransactionHandle(txn: txn)))
        } catch {
            unsafe abort(txn, readOnly: false)
            throw error
        }
        // mdb_txn_commit frees the handle even when it fails: never abort after it.
        try unsafe commit(txn, readOnly: false)
        return result
    }

    /// Runs `body` in one read transaction, a consistent snapshot of the last commit, and ends it afterwards.
    ///
    /// Throws what `body` throws, or an `LMDBError` from `mdb_txn_begin` (`MDB_READERS_FULL`; `MDB_MAP_RESIZED` only
    /// when another transaction of this environment is open, otherwise the grown map is adopted and the begin retried).
    @available(*, noasync, message: "an LMDB transaction must not span a suspension point")
    public func read<R>(_ body: (borrowing ReadTransaction) throws -> R) throws -> R {
        let txn = try unsafe begin(readOnly: true)
        // A read transaction is ended by abort; it has nothing to commit.
        defer { unsafe abort(txn, readOnly: true) }
        return try body(unsafe ReadTransaction(handle: TransactionHandle(txn: txn)))
    }

    private func begin(readOnly: Bool) throws(LMDBError) -> OpaquePointer {
        let flags = readOnly ? UInt32(MDB_RDONLY) : 0
        var txn: OpaquePointer?
        var rc = unsafe mdb_txn_begin(env, nil, flags, &txn)
        if rc == MDB_MAP_RESIZED && openTransactions == 0 {
            // Another process grew the data file past our map. LMDB lets us adopt its size (0 = the size recorded in
            // the file) only while no transaction of this process is open, which holds here.
            try check(unsafe mdb_env_set_mapsize(env, 0), "mdb_env_set_mapsize")
            rc = unsafe mdb_txn_begin(env, nil, flags, &txn)
        }
        try check(rc, "mdb_txn_begin")
        guard let txn = unsafe txn else { preconditionFailure("mdb_txn_begin succeeded without a handle") }
        openTransactions += 1
        if !readOnly { isWriting = true }
        return unsafe txn
    }

    private func commit(_ txn: OpaquePointer, readOnly: Bool) throws(LMDBError) {
        openTransactions -= 1
        if !readOnly { isWriting = false }
        try check(unsafe mdb_txn_commit(txn), "mdb_txn_commit")
    }

    private func abort(_ txn: OpaquePointer, readOnly: Bool) {
        openTransactions -= 1
        if !readOnly { isWriting = false }
        unsafe mdb_txn_abort(txn)
    }

    // MARK: - Size and durability

    /// The current map size in bytes (`mdb_env_info`'s `me_mapsize`).
    public var mapSize: Int { mapInfo.mapSize }

    /// `mdb_env_info`'s map size and last page in use, from the newest meta page.
    private var mapInfo: (mapSize: Int, lastPage: Int) {
        var info = unsafe MDB_envinfo()
        // mdb_env_info fails only for a null environment.
        unsafe mdb_env_info(env, &info)
        return unsafe (info.me_mapsize, info.me_last_pgno)
    }

    /// The largest key LMDB accepts in this environment, in bytes (511 unless LMDB was built otherwise).
    public var maxKeySize: Int { Int(unsafe mdb_env_get_maxkeysize(env)) }

    /// Sets the map size (`mdb_env_set_mapsize`); LMDB rounds it to pages and never goes below the size in use.
    ///
    /// Only while no transaction of this environment is open (calling it from inside `write` or `read` is a bug and
    /// traps). Other processes adopt the new size when their next transaction begins.
    public func setMapSize(_ bytes: Int) throws(LMDBError) {
        precondition(openTransactions == 0, "Environment.setMapSize called with a transaction open on \(path)")
        try check(unsafe mdb_env_set_mapsize(env, bytes), "mdb_env_set_mapsize")
    }

    /// Flushes committed data to disk (`mdb_env_sync`); `force` flushes even with `noSync`. `EACCES` when read-only.
    public func sync(force: Bool) throws(LMDBError) {
        try check(unsafe mdb_env_sync(env, force ? 1 : 0), "mdb_env_sync")
    }

    /// The bytes of `data.mdb` up to its last page in use (`mdb_env_info`'s `me_last_pgno`). The file may be longer:
    /// with a writable map LMDB sizes it to the map.
    public var usedSize: Int { (mapInfo.lastPage + 1) * pageSize }

    /// The smallest margin of allocated disk blocks past the pages in use, with a writable map.
    static let allocationMargin = 4 << 20

    /// With a writable map, makes sure the disk blocks of `data.mdb` reach `allocationMargin` plus `bytes` past the
    /// pages in use (never past the map), allocating a generous step at a time so that most writes only compare.
    private func allocate(beyondUse bytes: Int) throws(LMDBError) {
        guard usesWritableMap else { return }
        let info = mapInfo
        let used = (info.lastPage + 1) * pageSize
        let limit = info.mapSize
        let needed = min(used + Self.allocationMargin + max(bytes, 0), limit)
        guard needed > allocatedBytes else { return }
        // Pages below `allocatedBytes` already have their blocks, so only the rest is asked for.
        var end = min(needed + max(4 * Self.allocationMargin, used / 8), limit)
        var rc = Glibc.posix_fallocate(fileDescriptor, off_t(allocatedBytes), off_t(end - allocatedBytes))
        if rc == ENOSPC && end > needed {
            // The generous step does not fit, what this write needs may: without this, writes came back only
            // once the step's ~20 MiB were free again.
            end = needed
            rc = Glibc.posix_fallocate(fileDescriptor, off_t(allocatedBytes), off_t(end - allocatedBytes))
        }
        guard rc == 0 else { throw LMDBError(call: "posix_fallocate", code: rc) }
        allocatedBytes = end
    }

    /// Whether a write adding about `bytes` to the data file would find room on the disk, asked without a
    /// transaction: with a writable map by giving the file its blocks (as `write` would); otherwise by the file
    /// system's free space (`statvfs`), with `allocationMargin` to spare, since LMDB's `pwrite` extends the file.
    /// The map's own limit is not looked at (`mapSize`, `usedSize`).
    public func hasDiskRoom(for bytes: Int) -> Bool {
        guard !isReadOnly else { return false }
        if usesWritableMap {
            do {
                try allocate(beyondUse: bytes)
                return true
            } catch {
                return false
            }
        }
        var info = statvfs()
        guard unsafe statvfs(path, &info) == 0 else { return true }
        let free = Int(info.f_bavail).multipliedReportingOverflow(by: Int(info.f_frsize))
        return free.overflow || free.partialValue >= bytes + Self.allocationMargin
    }

    private var fileDescriptor: Int32 {
        var fd: Int32 = -1
        // Fails only for a closed environment, which this object rules out.
        guard unsafe mdb_env_get_fd(env, &fd) == MDB_SUCCESS else {
            preconditionFailure("cannot get the data file descriptor of the LMDB environment at \(path)")
        }
        return fd
    }

    /// The size of `data.mdb` in bytes (`fstat` of LMDB's descriptor).
    public var fileSize: Int {
        var info = stat()
        // Fails only for a bad descriptor, which this object rules out.
        guard unsafe fstat(fileDescriptor, &info) == 0 else {
            preconditionFailure("cannot stat the data file of the LMDB environment at \(path)")
        }
        return Int(info.st_size)
    }

    // MARK: - Checking the data file

    /// Where a meta page's fields lie, in bytes from the start of its page: the page header (16 bytes), then
    /// `MDB_meta` (`mm_magic`, `mm_version`, `mm_address`, `mm_mapsize`, the free and main `MDB_db`s of 48 bytes,
    /// `mm_last_pg`, `mm_txnid`). The page size is kept in the free database's `md_pad`.
    private enum Meta {
        static let magic = 16
        static let pageSize = 40
        static let lastPage = 136
        static let transaction = 144
        static let end = 152
        static let magicValue: UInt32 = 0xBEEF_C0DE
    }

    /// Checks `data.mdb` in `directory` against its newest meta page before LMDB maps it, and returns its size (0
    /// when it does not exist yet).
    ///
    /// LMDB pages carry no checksums, and LMDB maps the file as it is: a page past the end of a cut file is read
    /// as SIGBUS, not an error. So a file shorter than the pages its newest meta page says are in use (`mm_last_pg`
    /// and the page size, as `mdb_env_info` would report them) is refused with `MDB_CORRUPTED`. A file that is not
    /// an LMDB file at all is left to `mdb_env_open` (`MDB_INVALID`); an empty one is a new environment to LMDB.
    static func checkDataFile(in directory: String) throws(LMDBError) -> Int {
        let file = directory + "/data.mdb"
        let fd = unsafe Glibc.open(file, O_RDONLY | O_CLOEXEC)
        // Missing or unreadable: mdb_env_open creates it or reports why.
        guard fd >= 0 else { return 0 }
        defer { Glibc.close(fd) }
        var info = stat()
        guard unsafe fstat(fd, &info) == 0 else { throw LMDBError(call: "fstat(\(file))", code: errno) }
        let size = Int(info.st_size)
        guard size > 0 else { return 0 }
        let first = try readMeta(fd, at: 0, file: file)
        guard first.count == Meta.end else {
            throw LMDBError(
                call: file,
                code: MDB_CORRUPTED,
                detail: "\(size) bytes, too short for its first meta page: the file is truncated"
            )
        }
        guard load(UInt32.self, first, Meta.magic) == Meta.magicValue else { return size }
        let pageSize = Int(load(UInt32.self, first, Meta.pageSize))
        guard pageSize >= 512, pageSize <= 65536, pageSize & (pageSize - 1) == 0 else { return size }
        var newest = first
        let second = try readMeta(fd, at: pageSize, file: file)
        if second.count == Meta.end && load(UInt32.self, second, Meta.magic) == Meta.magicValue
            && load(UInt64.self, second, Meta.transaction) > load(UInt64.self, first, Meta.transaction)
        {
            newest = second
        }
        let lastPage = load(UInt64.self, newest, Meta.lastPage)
        let (needed, overflow) = (lastPage &+ 1).multipliedReportingOverflow(by: UInt64(pageSize))
        guard !overflow, needed <= UInt64(size) else {
            throw LMDBError(
                call: file,
                code: MDB_CORRUPTED,
                detail: "\(size) bytes, but its meta page names pages up to \(lastPage) of \(pageSize) bytes "
                    + "(\(lastPage &+ 1) pages): the file is truncated or damaged; restore it from a backup"
            )
        }
        return size
    }

    /// The first `Meta.end` bytes of the page at `offset` (fewer at the end of the file).
    private static func readMeta(_ fd: Int32, at offset: Int, file: String) throws(LMDBError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Meta.end)
        let count = unsafe bytes.withUnsafeMutableBytes { unsafe pread(fd, $0.baseAddress, Meta.end, off_t(offset)) }
        guard count >= 0 else { throw LMDBError(call: "pread(\(file))", code: errno) }
        return Array(bytes[..<count])
    }

    /// A little-endian integer of `bytes` at `offset` (LMDB writes them in the machine's order; Linux targets
    /// are little-endian).
    private static func load<T: FixedWidthInteger>(_: T.Type, _ bytes: [UInt8], _ offset: Int) -> T {
        var value: T = 0
        for i in 0..<MemoryLayout<T>.size { value |= T(bytes[offset + i]) << (8 * i) }
        return value
    }

    // MARK: - Directories

    /// Creates `path` and its missing parents with mode 0755, like `mkdir -p`.
    public static func makeDirectories(_ path: String) throws(LMDBError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if unsafe mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw LMDBError(call: "mkdir", code: errno)
            }
            prefix += "/"
        }
    }
}
