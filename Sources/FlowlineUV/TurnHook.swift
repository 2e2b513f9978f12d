internal import CLibUV

/// Runs its callback once per loop turn, just before the loop blocks for I/O (`uv_prepare_t`). Loop thread only.
///
/// The daemon commits its journal transaction here, then flushes the turn's outbox. A started hook is an active
/// handle: it keeps `EventLoop.run()` running until `close()`, `unref()` or `EventLoop.stop()`.
@safe public final class TurnHook: LoopHandle {
    private let handle: UnsafeMutablePointer<uv_prepare_t>
    private var callback: (() -> Void)?
    private var isClosing = false

    /// Creates the hook on `loop` and starts it (`uv_prepare_init`, `uv_prepare_start`).
    public init(loop: EventLoop, _ callback: @escaping () -> Void) throws(UVError) {
        let handle = UnsafeMutablePointer<uv_prepare_t>.allocate(capacity: 1)
        do {
            try check(unsafe uv_prepare_init(loop.loop, handle), "uv_prepare_init")
        } catch {
            unsafe handle.deallocate()
            throw error
        }
        unsafe self.handle = handle
        self.callback = callback
        unsafe adopt(handle, by: self)
        checkInvariant(
            unsafe uv_prepare_start(handle, { unsafe owner(TurnHook.self, of: $0).fire() }),
            "uv_prepare_start"
        )
    }

    /// Lets `EventLoop.run()` return while this hook is the only thing left (`uv_unref`).
    public func unref() {
        guard !isClosing else { return }
        unsafe uv_unref(cuv_handle(handle))
    }

    /// Stops and closes the hook (`uv_close`); idempotent.
    public func close() {
        guard !isClosing else { return }
        isClosing = true
        unsafe uv_close(cuv_handle(handle), { unsafe release(TurnHook.self, of: $0).didClose() })
    }

    private func fire() {
        callback?()
    }

    private func didClose() {
        callback = nil
        unsafe handle.deallocate()
    }
}
