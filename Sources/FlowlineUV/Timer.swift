internal import CLibUV

/// A one-shot or repeating timer (`uv_timer_t`). Loop thread only.
///
/// Timers due in the same turn fire in order of due time, then of start. An open timer keeps its object alive (and,
/// while started and referenced, keeps `EventLoop.run()` running) until `close()`.
@safe public final class Timer: LoopHandle {
    private let handle: UnsafeMutablePointer<uv_timer_t>
    private var callback: (() -> Void)?

    /// Creates a stopped timer on `loop` (`uv_timer_init`).
    public init(loop: EventLoop) throws(UVError) {
        let handle = try unsafe makeHandle(uv_timer_t.self, "uv_timer_init") { unsafe uv_timer_init(loop.loop, $0) }
        unsafe self.handle = handle
        unsafe super.init(adopting: handle)
    }

    /// Fires `callback` after `afterMilliseconds` of loop time, then every `repeatMilliseconds` if that is non-zero
    /// (`uv_timer_start`). Restarting replaces the previous schedule and callback. Must not be called after `close()`.
    public func start(afterMilliseconds: UInt64, repeatMilliseconds: UInt64 = 0, _ callback: @escaping () -> Void) {
        precondition(!isClosing, "Timer.start after close()")
        self.callback = callback
        checkInvariant(
            unsafe uv_timer_start(
                handle,
                { unsafe owner(Timer.self, of: $0).fire() },
                afterMilliseconds,
                repeatMilliseconds
            ),
            "uv_timer_start"
        )
    }

    /// Stops the timer (`uv_timer_stop`); it can be started again. No-op after `close()`.
    public func stop() {
        guard !isClosing else { return }
        unsafe uv_timer_stop(handle)
    }

    private func fire() {
        callback?()
    }

    override func didClose() {
        callback = nil
    }
}
