import FlowlineCore
import FlowlineUV

/// The daemon's only source of time: wall-clock milliseconds, handed to the core as `Instant`.
enum Clock {
    static func now() -> Instant { Instant(milliseconds: wallClockMilliseconds()) }
}
