import FlowlineUV
import Testing

/// Runs `loop` until it runs out of work or something stops it, or until `seconds` pass. Returns `false` (and records
/// an issue) on timeout. The guard timer is unreferenced, so it never keeps the loop alive by itself.
@discardableResult
func runBounded(_ loop: EventLoop, seconds: UInt64 = 5, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
    var timedOut = false
    do {
        let guardTimer = try Timer(loop: loop)
        guardTimer.unref()
        // Handle callbacks capture the loop unowned: a strong capture would keep the loop alive through the handle.
        guardTimer.start(afterMilliseconds: seconds * 1000) { [unowned loop] in
            timedOut = true
            loop.stop()
        }
        loop.run()
        guardTimer.close()
    } catch {
        Issue.record(error, sourceLocation: sourceLocation)
    }
    if timedOut { Issue.record("loop still busy after \(seconds) s", sourceLocation: sourceLocation) }
    return !timedOut
}

/// Deterministic bytes of a given size.
func pattern(count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
}

/// A listener on 127.0.0.1:0 whose connections echo every chunk they read.
func echoListener(on loop: EventLoop) throws -> TCPListener {
    try TCPListener(loop: loop, host: "127.0.0.1", port: 0) { connection in
        // The closure captures its own connection; closing drops onRead and so the cycle.
        connection.onRead = { bytes in connection.write(bytes) }
        connection.startReading()
    }
}
