internal import CLMDB

/// A named database of an `Environment` (an `MDB_dbi`), valid as long as that environment.
///
/// Keys are compared as unsigned bytes, shorter first on a common prefix (LMDB's default `memcmp` order).
public struct Database: Sendable, Hashable {
    let handle: UInt32

    init(handle: MDB_dbi) {
        self.handle = handle
    }
}
