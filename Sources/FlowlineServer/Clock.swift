import FlowlineCore
import FlowlineUV

/// The daemon's wall clock, handed to the core as `Instant`: it stamps events and persisted deadlines. Timers wait
/// on the loop's monotonic clock instead (`Daemon.rearmTimer`), so a wall clock set forward or back neither fires
/// them early nor holds them back.
enum Clock {
    /// Wall-clock milliseconds, plus the test-only offset (`testWallClockOffsetMilliseconds`, 0 outside tests).
    static func now() -> Instant { Instant(milliseconds: wallClockMilliseconds() + testWallClockOffsetMilliseconds()) }
}
