/// How hard a journal commit pushes to disk (the daemon's `--sync`).
public enum SyncMode: String, Sendable {
    /// Each commit is flushed to disk before it returns (LMDB's default): nothing acknowledged is lost.
    case full
    /// Commits are not flushed (`MDB_NOSYNC`): a process crash loses nothing, a system crash may lose the last
    /// commits. For tests and benchmarks.
    case none
}
