/// The LMDB journal's settings: where it lives and how it writes (the daemon's `--data`, `--sync`, `--map-size`,
/// `--max-map-size`). When to checkpoint is the daemon's policy, not a setting of the store.
public struct LMDBJournalConfiguration: Sendable, Equatable {
    /// The data directory, created (like `mkdir -p`) when missing.
    public var directory = "./flowline-data"
    /// Whether each commit is flushed to disk.
    public var sync = SyncMode.full
    /// The first map size, in bytes; the map doubles when full...
    public var mapSize = 1 << 30
    /// ...up to this; past it (or when the disk is full) commits fail with `JournalError.Code.outOfSpace`.
    public var maxMapSize = 64 << 30
    /// How many records may wait for their `by_workflow` entries (`JournalStore.indexDeferral`): a small commit
    /// then syncs the records' pages without the index's, which catches up every this many records, at
    /// checkpoints and compactions.
    public var indexDeferral = 2048
    /// Whether opening takes the journal's writer lock (`JournalStore.lockFileName`): one daemon per journal.
    public var exclusive = true

    public init() {}

    /// The settings for `directory`, the rest as by default.
    public init(directory: String) {
        self.directory = directory
    }
}
