import FlowlineCore
import Testing

@testable import FlowlineServer

/// When the daemon compacts and checkpoints, driven by a fake monotonic clock.
@Suite struct HousekeepingTests {
    static let start = Instant(milliseconds: 1_000)

    func fresh() -> Housekeeping {
        Housekeeping(checkpointEvents: 100, interval: .seconds(30), now: Self.start)
    }

    func at(_ seconds: Int64) -> Instant { Self.start + .seconds(seconds) }

    /// One row of the checkpoint table: the turn, the events already committed since the last checkpoint, and
    /// whether a checkpoint is due.
    struct CheckpointRow: CustomTestStringConvertible, Sendable {
        var name: String
        var seconds: Int64
        var since = 0
        var events = 0
        var hasDirty = false
        var forced = false
        var full = false
        var due: Bool
        var testDescription: String { name }
    }

    static let checkpointRows: [CheckpointRow] = [
        CheckpointRow(name: "nothing happened", seconds: 1, due: false),
        CheckpointRow(
            name: "events below the count, interval not passed",
            seconds: 1,
            since: 50,
            events: 49,
            due: false
        ),
        CheckpointRow(name: "the count reached", seconds: 1, since: 50, events: 50, due: true),
        CheckpointRow(name: "the interval passed with changes", seconds: 30, hasDirty: true, due: true),
        CheckpointRow(name: "the interval passed with the turn's events", seconds: 30, events: 1, due: true),
        CheckpointRow(name: "the interval passed, nothing changed", seconds: 31, due: false),
        CheckpointRow(name: "shutdown forces it", seconds: 0, forced: true, due: true),
        CheckpointRow(
            name: "never while the journal is full",
            seconds: 60,
            events: 500,
            forced: true,
            full: true,
            due: false
        ),
    ]

    @Test(arguments: checkpointRows) func checkpoint(_ row: CheckpointRow) {
        var housekeeping = fresh()
        housekeeping.eventsSinceCheckpoint = row.since
        let turn = Housekeeping.Turn(
            now: at(row.seconds),
            forced: row.forced,
            journalFull: row.full,
            events: row.events,
            hasDirty: row.hasDirty
        )
        #expect(housekeeping.checkpointDue(turn) == row.due)
    }

    @Test func compactionRunsOncePerInterval() {
        var housekeeping = fresh()
        func due(_ turn: Housekeeping.Turn) -> Bool { housekeeping.compactionDue(turn) }
        #expect(!due(Housekeeping.Turn(now: at(29))))
        #expect(due(Housekeeping.Turn(now: at(30))))
        // The interval starts again.
        #expect(!due(Housekeeping.Turn(now: at(31))))
        #expect(!due(Housekeeping.Turn(now: at(59))))
        #expect(due(Housekeeping.Turn(now: at(60))))
        // Shutdown forces it; a full journal refuses it, forced or not, and leaves the interval as it was.
        #expect(due(Housekeeping.Turn(now: at(61), forced: true)))
        #expect(!due(Housekeeping.Turn(now: at(200), forced: true, journalFull: true)))
        #expect(housekeeping.lastCompaction == at(61))
    }

    @Test func aCommitCountsItsEventsAndACheckpointStartsAgain() {
        var housekeeping = fresh()
        housekeeping.committed(events: 60, checkpointed: false, at: at(1))
        housekeeping.committed(events: 30, checkpointed: false, at: at(2))
        #expect(housekeeping.eventsSinceCheckpoint == 90)
        #expect(housekeeping.checkpointDue(Housekeeping.Turn(now: at(3), events: 10)))
        housekeeping.committed(events: 10, checkpointed: true, at: at(3))
        #expect(housekeeping.eventsSinceCheckpoint == 0)
        #expect(housekeeping.lastCheckpoint == at(3))
        // The interval counts from the checkpoint.
        #expect(!housekeeping.checkpointDue(Housekeeping.Turn(now: at(32), hasDirty: true)))
        #expect(housekeeping.checkpointDue(Housekeeping.Turn(now: at(33), hasDirty: true)))
    }

    /// A clock that stands still (or the loop's clock read twice in a turn) never makes an interval pass.
    @Test func aClockThatDoesNotMoveDuesNothing() {
        var housekeeping = fresh()
        let turn = Housekeeping.Turn(now: Self.start, hasDirty: true)
        let compacts = housekeeping.compactionDue(turn)
        #expect(!compacts)
        #expect(!housekeeping.checkpointDue(turn))
    }
}
