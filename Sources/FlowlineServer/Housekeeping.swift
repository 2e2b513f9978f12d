import FlowlineCore

/// When the daemon compacts finished workflows and when it checkpoints: a plain value, driven by the loop's
/// monotonic clock (`Daemon.monotonicNow`) passed in, so that a wall clock set back does not put either off.
///
/// Compaction looks at every workflow, so it runs at the checkpoint interval, not every turn. A checkpoint is
/// due after `checkpointEvents` events, or `interval` after the last one when anything changed since; both are
/// forced at shutdown, and neither is tried while the journal is full (`Daemon+Full.swift`).
struct Housekeeping {
    var checkpointEvents: Int
    var interval: Duration
    /// Events committed since the last checkpoint (or replayed after it).
    var eventsSinceCheckpoint = 0
    private(set) var lastCheckpoint: Instant
    private(set) var lastCompaction: Instant

    init(checkpointEvents: Int, interval: Duration, now: Instant) {
        self.checkpointEvents = checkpointEvents
        self.interval = interval
        self.lastCheckpoint = now
        self.lastCompaction = now
    }

    /// How the turn's end finds things.
    struct Turn {
        var now: Instant
        /// Shutdown: compact and checkpoint whatever the clock says.
        var forced = false
        var journalFull = false
        /// Events the turn has to commit.
        var events = 0
        /// Whether workflows changed since the last checkpoint (outside this turn's events).
        var hasDirty = false
    }

    /// Whether to compact now; if so, the interval starts again.
    mutating func compactionDue(_ turn: Turn) -> Bool {
        guard !turn.journalFull && (turn.forced || turn.now - lastCompaction >= interval) else { return false }
        lastCompaction = turn.now
        return true
    }

    /// Whether the turn's commit should carry a checkpoint.
    func checkpointDue(_ turn: Turn) -> Bool {
        guard !turn.journalFull else { return false }
        if turn.forced || eventsSinceCheckpoint + turn.events >= checkpointEvents { return true }
        return turn.now - lastCheckpoint >= interval && (turn.hasDirty || turn.events > 0)
    }

    /// A commit of `events` events succeeded, with a checkpoint or without.
    mutating func committed(events: Int, checkpointed: Bool, at now: Instant) {
        if checkpointed {
            eventsSinceCheckpoint = 0
            lastCheckpoint = now
        } else {
            eventsSinceCheckpoint += events
        }
    }
}
