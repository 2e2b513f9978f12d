/// How hard a journal commit pushes to disk (the daemon's `--sync`).
public enum SyncMode: String, Sendable {
    /// Each commit is flushed to disk: its data pages before it returns, its meta page then or with the next
    /// commit's sync (`JournalStore.commit(_:durable:)`). The daemon answers only once both are on disk: nothing
    /// acknowledged is lost.
    case full
    /// Commits are not flushed (`MDB_NOSYNC`): a process crash loses nothing, a system crash may lose the last
    /// commits. For tests and benchmarks.
    case none
}
