/// Facts about a journal, for `stats` and `flowline inspect`.
public struct JournalStats: Sendable, Equatable {
    /// The size of the data file up to its last page in use, in bytes (with `SyncMode.none` the file itself is as
    /// long as the map, most of it a hole).
    public var fileBytes: Int
    /// The current map size, the most the data file may grow to before the map is grown, in bytes.
    public var mapBytes: Int
    /// The number of event records stored.
    public var events: Int
    /// The sequence number of the oldest record, `nil` when there is none (compaction may remove the oldest ones).
    public var firstSeq: UInt64?
    /// The sequence number of the newest record, 0 when there has never been one.
    public var lastSeq: UInt64
    /// The write transactions committed through this store since it was opened (by this process).
    public var commits: UInt64

    /// Creates stats from their parts.
    public init(fileBytes: Int, mapBytes: Int, events: Int, firstSeq: UInt64?, lastSeq: UInt64, commits: UInt64) {
        self.fileBytes = fileBytes
        self.mapBytes = mapBytes
        self.events = events
        self.firstSeq = firstSeq
        self.lastSeq = lastSeq
        self.commits = commits
    }
}
