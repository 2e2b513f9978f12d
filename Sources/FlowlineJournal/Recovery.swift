public import FlowlineCore

/// The one recovery routine: a coordinator state rebuilt from a journal as the last checkpoint (its workflow
/// snapshots and globals) plus the events after it, replayed with `Coordinator.replay`; or, without the
/// checkpoint, every event from seq 1. The daemon recovers with it at a start and after a failed commit, the admin
/// tool's `replay` and `inspect` rebuild with it offline, and `replay --verify` replays to the checkpoint with it.
///
/// Everything is read in one read transaction, so a reader beside a running daemon gets one consistent
/// snapshot. Records are decoded on a second thread while the state folds (`JournalStore.replaySteps`), and
/// checkpoint snapshots in a few shares at once.
public struct Recovery: Sendable {
    /// How far to replay and from where.
    public struct Options: Sendable {
        /// The last event replayed.
        public enum Limit: Sendable, Equatable {
            /// The journal's last.
            case end
            /// Seq `n` (a checkpoint past it is not used).
            case seq(UInt64)
            /// The checkpoint's seq; nothing at all when there is no checkpoint.
            case checkpoint
        }

        /// Whether to start from the checkpoint (when one reaches no further than `limit`), or from seq 1.
        public var usesCheckpoint: Bool
        public var limit: Limit
        /// Whether to decode and keep the checkpoint's globals and workflows in `checkpoint` even when it is not
        /// used (to compare a replay with it).
        public var keepsCheckpoint: Bool

        public init(usesCheckpoint: Bool = true, limit: Limit = .end, keepsCheckpoint: Bool = false) {
            self.usesCheckpoint = usesCheckpoint
            self.limit = limit
            self.keepsCheckpoint = keepsCheckpoint
        }
    }

    /// The journal's last checkpoint.
    public struct Checkpoint: Sendable {
        /// The last seq it includes.
        public var seq: UInt64
        /// How many workflow snapshots it holds.
        public var snapshots: Int
        /// Its globals and workflows, with `Options.keepsCheckpoint` (else `nil` and empty).
        public var globals: CheckpointGlobals?
        public var workflows: [Workflow] = []

        public init(seq: UInt64, snapshots: Int, globals: CheckpointGlobals? = nil, workflows: [Workflow] = []) {
            self.seq = seq
            self.snapshots = snapshots
            self.globals = globals
            self.workflows = workflows
        }
    }

    /// The journal's checkpoint, used or not; `nil` when none was written.
    public var checkpoint: Checkpoint?
    /// Whether the state started from `checkpoint`.
    public var usedCheckpoint = false
    /// Events replayed (after the checkpoint, when it was used).
    public var events = 0
    /// The first and last seq replayed; `nil` and 0 for none (`lastSeq` is at least the checkpoint's seq when it was
    /// used).
    public var firstSeq: UInt64?
    public var lastSeq: UInt64 = 0
    /// The time of the last event replayed.
    public var lastEventTime: Instant?
    /// What changed since the checkpoint: what the next one must hold.
    public var changes = CheckpointTracker()

    /// Rebuilds `coordinator`'s state from `store` as `options` say, keeping its settings (`futureRetention`,
    /// `maxKeptFutures`); the state is left as replayed, for `Coordinator.resume`. `pastLimit`, when given, sees
    /// every event after the limit (else they are not read). Throws `JournalError` for a record or snapshot that
    /// does not decode and for storage failures.
    public static func run(
        _ store: JournalStore,
        into coordinator: inout Coordinator,
        options: Options = Options(),
        pastLimit: ((Event) -> Void)? = nil
    ) throws(JournalError) -> Recovery {
        var recovery = Recovery()
        let maxKeptFutures = coordinator.maxKeptFutures
        coordinator = Coordinator(futureRetention: coordinator.futureRetention)
        coordinator.maxKeptFutures = maxKeptFutures
        var through: UInt64?
        try journalOperation {
            try store.readForRecovery(
                start: { records in
                    let start = try recovery.begin(records, into: &coordinator, options: options)
                    through = start?.through
                    // Without an observer, the reading side stops at the limit.
                    return start.map { pastLimit == nil ? $0 : ($0.from, nil) }
                },
                sized: { coordinator.reserveCapacity(forSubmissions: $0) }
            ) { seq, step in
                if let through, seq > through {
                    guard let pastLimit else { return false }
                    pastLimit(step.event)
                    return true
                }
                coordinator.replay(&step)
                // What changed after the checkpoint must be in the next one; without it, everything is (below).
                if recovery.usedCheckpoint { recovery.changes.note(step.event) }
                recovery.events += 1
                if recovery.firstSeq == nil { recovery.firstSeq = seq }
                recovery.lastSeq = seq
                recovery.lastEventTime = step.event.time
                return true
            }
        }
        if recovery.usedCheckpoint {
            recovery.changes.committed(recovery.events)
        } else {
            recovery.changes.replayedFromStart(recovery.events, workflows: coordinator.state.workflows.count)
        }
        return recovery
    }

    /// A recovery that found nothing: for another journal's routine to fill in.
    public init() {}

    /// Takes in the checkpoint read, restoring it when it is to be used; returns the seqs to replay, or `nil` for
    /// none.
    private mutating func begin(
        _ records: CheckpointRecords?,
        into coordinator: inout Coordinator,
        options: Options
    ) throws -> (from: UInt64, through: UInt64?)? {
        var through: UInt64? =
            switch options.limit {
            case .end: nil
            case .seq(let seq): seq
            case .checkpoint: nil
            }
        guard let records else { return options.limit == .checkpoint ? nil : (1, through) }
        let (globals, seq) = try SnapshotCodec.decodeGlobals(records.globals)
        checkpoint = Checkpoint(seq: seq, snapshots: records.snapshots.count)
        if options.limit == .checkpoint { through = seq }
        let uses = options.usesCheckpoint && seq <= through ?? .max
        guard uses || options.keepsCheckpoint else { return (1, through) }
        let workflows = try JournalStore.decodeSnapshots(records.snapshots)
        if options.keepsCheckpoint {
            checkpoint?.globals = globals
            checkpoint?.workflows = workflows
        }
        guard uses else { return (1, through) }
        let maxKeptFutures = coordinator.maxKeptFutures
        coordinator = Coordinator(
            state: CoordinatorState(globals: globals, workflows: workflows),
            futureRetention: coordinator.futureRetention
        )
        coordinator.maxKeptFutures = maxKeptFutures
        usedCheckpoint = true
        lastSeq = seq
        return (seq + 1, through)
    }
}
