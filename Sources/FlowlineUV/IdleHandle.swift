internal import CLibUV

/// A `uv_idle_t`: while started, its callback runs once per loop turn and the loop does not block for I/O.
/// `Wakeup` uses it for sends from the loop's own thread. Loop thread only.
@safe final class IdleHandle: LoopHandle {
    private let handle: UnsafeMutablePointer<uv_idle_t>
    private var callback: (() -> Void)?
    private var isClosing = false

    /// Creates the handle on `loop`, stopped (`uv_idle_init`).
    init(loop: EventLoop, _ callback: @escaping () -> Void) throws(UVError) {
        let handle = UnsafeMutablePointer<uv_idle_t>.allocate(capacity: 1)
        do {
            try check(unsafe uv_idle_init(loop.loop, handle), "uv_idle_init")
        } catch {
            unsafe handle.deallocate()
            throw error
        }
        unsafe self.handle = handle
        self.callback = callback
        unsafe adopt(handle, by: self)
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

    /// Lets `EventLoop.run()` return while this handle is the only thing left (`uv_unref`).
    func unref() {
        guard !isClosing else { return }
        unsafe uv_unref(cuv_handle(handle))
    }

    /// Closes the handle (`uv_close`); idempotent.
    func close() {
        guard !isClosing else { return }
        isClosing = true
        unsafe uv_close(cuv_handle(handle), { unsafe release(IdleHandle.self, of: $0).didClose() })
    }

    private func fire() {
        callback?()
    }

    private func didClose() {
        callback = nil
        unsafe handle.deallocate()
    }
}
