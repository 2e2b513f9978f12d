internal import CLibUV

/// Runs its callback once per loop turn, just before the loop blocks for I/O (`uv_prepare_t`). Loop thread only.
///
/// The daemon commits its journal transaction here, then flushes the turn's outbox. A started hook is an active
/// handle: it keeps `EventLoop.run()` running until `close()`, `unref()` or `EventLoop.stop()`.
@safe public final class TurnHook: LoopHandle {
    private let handle: UnsafeMutablePointer<uv_prepare_t>
    private var callback: (() -> Void)?

    /// Creates the hook on `loop` and starts it (`uv_prepare_init`, `uv_prepare_start`).
    public init(loop: EventLoop, _ callback: @escaping () -> Void) throws(UVError) {
        let handle = try unsafe makeHandle(uv_prepare_t.self, "uv_prepare_init") {
            unsafe uv_prepare_init(loop.loop, $0)
        }
        unsafe self.handle = handle
        self.callback = callback
        unsafe super.init(adopting: handle)
        checkInvariant(
            unsafe uv_prepare_start(handle, { unsafe owner(TurnHook.self, of: $0).fire() }),
            "uv_prepare_start"
        )
    }

    private func fire() {
        callback?()
    }

    override func didClose() {
        callback = nil
    }
}
