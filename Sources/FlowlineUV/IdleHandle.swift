internal import CLibUV

/// A `uv_idle_t`: while started, its callback runs once per loop turn and the loop does not block for I/O.
/// `Wakeup` uses it for sends from the loop's own thread. Loop thread only.
@safe final class IdleHandle: LoopHandle {
    private let handle: UnsafeMutablePointer<uv_idle_t>
    private var callback: (() -> Void)?

    /// Creates the handle on `loop`, stopped (`uv_idle_init`).
    init(loop: EventLoop, _ callback: @escaping () -> Void) throws(UVError) {
        let handle = try unsafe makeHandle(uv_idle_t.self, "uv_idle_init") { unsafe uv_idle_init(loop.loop, $0) }
        unsafe self.handle = handle
        self.callback = callback
        unsafe super.init(adopting: handle)
    }

    /// Starts the handle (`uv_idle_start`); starting a started handle does nothing.
    func start() {
        guard !isClosing else { return }
        checkInvariant(unsafe uv_idle_start(handle, { unsafe owner(IdleHandle.self, of: $0).fire() }), "uv_idle_start")
    }

    /// Stops the handle (`uv_idle_stop`).
    func stop() {
        guard !isClosing else { return }
        checkInvariant(unsafe uv_idle_stop(handle), "uv_idle_stop")
    }

    private func fire() {
        callback?()
    }

    override func didClose() {
        callback = nil
    }
}
