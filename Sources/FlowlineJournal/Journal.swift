public import FlowlineCore

/// The daemon's journal, at the level of events: a loop turn's events are appended and committed together (group
/// commit), the state is recovered from a checkpoint plus the events after it, and a workflow's history is read
/// back. `LMDBJournal` is the embedded implementation; a shared database (cluster mode, SPEC §9) is another.
///
/// Loop thread only: every method, and every completion, runs on the thread that owns the journal.
///
/// A commit may complete later (a network round trip). Whatever the implementation, completions come in the
/// order of the commits, each exactly once, and never before the commit is written: output held back for a
/// commit may be released by its completion, in order, and answers once `isDurable` also says so (SPEC §4). A
/// commit that fails leaves nothing of its events in the journal, and the caller rebuilds its state with
/// `recover(into:)`.
public protocol Journal: AnyObject {
    /// The newest committed record's seq, 0 when there has never been one.
    var lastSeq: UInt64 { get }
    /// The commits made through this journal since it was opened.
    var commits: UInt64 { get }
    /// Events committed since the last checkpoint (with those recovery replayed after it).
    var eventsSinceCheckpoint: Int { get }
    /// Whether a workflow changed since the last checkpoint.
    var hasUncheckpointedChanges: Bool { get }

    /// Takes `events`, oldest first, for the next commit, leaving the array empty with its storage kept; notes the
    /// workflows they change for the next checkpoint. A `.workflowsCompacted` event also purges the records of
    /// those workflows in the same commit (compaction).
    func append(_ events: inout [Event])

    /// Commits what was appended since the last commit, in one transaction, with a checkpoint of `state` (which
    /// includes every appended event) when given: the snapshots of the workflows changed since the last one and
    /// the globals. Should the checkpoint not fit (out of space), the events are committed without it and the
    /// receipt says so. With `durable`, the commit is on disk when it completes also where the journal would
    /// otherwise let the next commit finish it (a shutdown's last commit). Calls `completion` once, on the loop
    /// thread, in commit order; possibly before `commit` returns (LMDB always does).
    func commit(
        checkpointing state: CoordinatorState?,
        durable: Bool,
        completion: @escaping (Result<CommitReceipt, JournalError>) -> Void
    )

    /// Rebuilds `coordinator`'s state from the journal: the last checkpoint, then the events after it (the one
    /// recovery routine, `Recovery`). Its settings (`futureRetention`, `maxKeptFutures`) are kept; the state is
    /// left as replayed, for `Coordinator.resume`. Drops what was appended and not committed.
    func recover(into coordinator: inout Coordinator) throws(JournalError) -> Recovery

    /// The committed events of workflow `id`, oldest first, with their seqs.
    func history(of id: WorkflowID) throws(JournalError) -> [(seq: UInt64, event: Event)]

    /// Sizes and counts, for `stats`.
    func stats() throws(JournalError) -> JournalStats

    /// Whether a commit adding about `bytes` may fit, asked without writing (SPEC §4's full journal).
    func hasRoom(for bytes: Int) -> Bool

    /// Whether every completed commit is on disk. A journal may complete a commit before its last step reaches
    /// the disk (LMDB's meta page, `JournalStore.commit(_:durable:)`): answers then wait for `makeDurable` or the
    /// next commit, which finishes it. Always true where completion means durable.
    var isDurable: Bool { get }
    /// Puts every completed commit on disk; a no-op when `isDurable`.
    func makeDurable() throws(JournalError)
}

/// What a completed commit did.
public struct CommitReceipt: Sendable, Equatable {
    /// The seq of the commit's first record, `nil` when it had none.
    public var firstSeq: UInt64?
    /// The journal's newest seq after the commit.
    public var lastSeq: UInt64
    /// How many records it wrote.
    public var records: Int
    /// Whether it wrote the checkpoint it was given.
    public var checkpointed: Bool

    public init(firstSeq: UInt64?, lastSeq: UInt64, records: Int, checkpointed: Bool) {
        self.firstSeq = firstSeq
        self.lastSeq = lastSeq
        self.records = records
        self.checkpointed = checkpointed
    }
}
