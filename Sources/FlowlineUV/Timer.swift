internal import CLibUV

/// A one-shot or repeating timer (`uv_timer_t`). Loop thread only.
///
/// Timers due in the same turn fire in order of due time, then of start. An open timer keeps its object alive (and,
/// while started and referenced, keeps `EventLoop.run()` running) until `close()`.
@safe public final class Timer: LoopHandle {
    private let handle: UnsafeMutablePointer<uv_timer_t>
    private var callback: (() -> Void)?
    private var isClosing = false

    /// Creates a stopped timer on `loop` (`uv_timer_init`).
    public init(loop: EventLoop) throws(UVError) {
        let handle = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)
        do {
            try check(unsafe uv_timer_init(loop.loop, handle), "uv_timer_init")
        } catch {
            unsafe handle.deallocate()
            throw error
        }
        unsafe self.handle = handle
        unsafe adopt(handle, by: self)
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

    /// Lets `EventLoop.run()` return while this timer is the only thing left (`uv_unref`).
    public func unref() {
        guard !isClosing else { return }
        unsafe uv_unref(cuv_handle(handle))
    }

    /// Stops and closes the timer (`uv_close`); idempotent. The callback is dropped when the close completes.
    public func close() {
        guard !isClosing else { return }
        isClosing = true
        unsafe uv_close(cuv_handle(handle), { unsafe release(Timer.self, of: $0).didClose() })
    }

    private func fire() {
        callback?()
    }

    private func didClose() {
        callback = nil
        unsafe handle.deallocate()
    }
}
