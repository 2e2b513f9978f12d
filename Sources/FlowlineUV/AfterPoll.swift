internal import CLibUV

/// Runs a callback once, right after the loop's next poll phase has read what the sockets hold (`uv_check_t`); a
/// `uv_idle_t` keeps that poll from blocking meanwhile. Loop thread only.
///
/// libuv runs due timers before it polls, so after a stall (the process stopped, a long turn) a timer's callback
/// runs before the input that arrived meanwhile is read. A timer that hands its work to `schedule` acts after it.
@safe public final class AfterPoll: LoopHandle {
    private let handle: UnsafeMutablePointer<uv_check_t>
    private let idle: IdleHandle
    private var callback: (() -> Void)?

    /// Creates the handle on `loop`, with nothing scheduled (`uv_check_init`, `uv_idle_init`).
    public init(loop: EventLoop) throws(UVError) {
        let idle = try IdleHandle(loop: loop) {}
        let handle: UnsafeMutablePointer<uv_check_t>
        do {
            handle = try unsafe makeHandle(uv_check_t.self, "uv_check_init") { unsafe uv_check_init(loop.loop, $0) }
        } catch {
            idle.close()
            throw error
        }
        self.idle = idle
        unsafe self.handle = handle
        unsafe super.init(adopting: handle)
    }

    /// Whether a callback waits for the next poll phase.
    public var isScheduled: Bool { callback != nil }

    /// Runs `callback` after the next poll phase, which does not block. While one is scheduled, does nothing.
    /// No-op after `close()`.
    public func schedule(_ callback: @escaping () -> Void) {
        guard !isClosing, self.callback == nil else { return }
        self.callback = callback
        idle.start()
        checkInvariant(unsafe uv_check_start(handle, { unsafe owner(AfterPoll.self, of: $0).fire() }), "uv_check_start")
    }

    private func fire() {
        unsafe uv_check_stop(handle)
        idle.stop()
        let callback = self.callback
        self.callback = nil
        callback?()
    }

    override func willClose() {
        idle.close()
    }

    override func didClose() {
        callback = nil
    }
}
