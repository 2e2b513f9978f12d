internal import CLMDB
internal import Glibc

/// A failed LMDB (or file-system) call: the C function and the code it returned.
///
/// `code` is either one of LMDB's own codes (`MDB_MAP_FULL`, `MDB_NOTFOUND`, ...) or an `errno` value
/// (`ENOSPC`, `EACCES`, ...), exactly as the C function returned it.
public struct LMDBError: Error, Equatable, CustomStringConvertible {
    /// The C function that failed, such as `"mdb_txn_commit"`.
    public let call: String
    /// The code it returned.
    public let code: Int32
    /// What was found wrong, when more is known than `code` says (a truncated data file, say).
    public let detail: String?

    /// Creates an error for `call` returning `code`, with `detail` in place of LMDB's message for it.
    public init(call: String, code: Int32, detail: String? = nil) {
        self.call = call
        self.code = code
        self.detail = detail
    }

    /// The map is full (`mdb_put`, `mdb_txn_commit`) or the disk is (`mdb_txn_commit`); the server answers -32005.
    public var isOutOfSpace: Bool { isMapFull || code == ENOSPC }

    /// The environment's map is full (`MDB_MAP_FULL`): a larger map size (`Environment.setMapSize`) may help,
    /// unlike `ENOSPC`.
    public var isMapFull: Bool { code == MDB_MAP_FULL }

    /// Another process grew the map beyond this environment's (`MDB_MAP_RESIZED`). `Environment` adopts the new
    /// size by itself when it can, so callers see this only when a transaction of theirs was still open.
    public var isMapResized: Bool { code == MDB_MAP_RESIZED }

    /// The files are not a whole LMDB environment (`MDB_INVALID`, `MDB_CORRUPTED`, `MDB_PAGE_NOTFOUND`), such as
    /// a `data.mdb` cut short.
    public var isCorrupt: Bool { code == MDB_INVALID || code == MDB_CORRUPTED || code == MDB_PAGE_NOTFOUND }

    /// The key (or record) does not exist (`MDB_NOTFOUND`), as from `openDatabase(_:create: false)`.
    public var isNotFound: Bool { code == MDB_NOTFOUND }

    /// The call and LMDB's message for the code, as in `"mdb_txn_commit: No space left on device"`.
    public var description: String {
        if let detail { return "\(call): \(detail)" }
        // mdb_strerror returns a static string for LMDB's codes and strerror's for errno values.
        return "\(call): \(unsafe String(cString: mdb_strerror(code)))"
    }
}

/// Throws an `LMDBError` naming `call` unless `rc` is `MDB_SUCCESS`. Every C call of this module goes through here.
@inline(__always)
func check(_ rc: Int32, _ call: String) throws(LMDBError) {
    if rc != MDB_SUCCESS { throw LMDBError(call: call, code: rc) }
}
