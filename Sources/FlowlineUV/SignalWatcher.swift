internal import CLibUV
internal import Glibc

/// Watches one signal on the loop (`uv_signal_t`). Loop thread only.
///
/// libuv installs a process-wide handler and delivers the signal to the loop through a pipe, so the callback runs on
/// the loop thread, as ordinary code. Several deliveries before the loop wakes may coalesce into one call. A signal
/// that every thread blocks stays pending: Dispatch worker threads block signals, so send process-directed signals
/// (`kill`) or watch from a thread that does not block them (such as the main thread).
@safe public final class SignalWatcher: LoopHandle {
    private let handle: UnsafeMutablePointer<uv_signal_t>
    private var callback: (() -> Void)?

    /// Starts watching `signal` (such as `SIGTERM`) on `loop` (`uv_signal_init`, `uv_signal_start`).
    public init(loop: EventLoop, signal: Int32, _ callback: @escaping () -> Void) throws(UVError) {
        let handle = try unsafe makeHandle(uv_signal_t.self, "uv_signal_init") { unsafe uv_signal_init(loop.loop, $0) }
        unsafe self.handle = handle
        self.callback = callback
        unsafe super.init(adopting: handle)
        // A parent (a test runner's spawning thread, say) may hand down a mask that blocks the signal; it would
        // then stay pending forever. Watching a signal means wanting it, so unblock it on this thread.
        var set = sigset_t()
        unsafe sigemptyset(&set)
        unsafe sigaddset(&set, signal)
        unsafe pthread_sigmask(SIG_UNBLOCK, &set, nil)
        do {
            let rc = unsafe uv_signal_start(handle, { h, _ in unsafe owner(SignalWatcher.self, of: h).fire() }, signal)
            try check(rc, "uv_signal_start")
        } catch {
            close()
            throw error
        }
    }

    private func fire() {
        callback?()
    }

    override func didClose() {
        callback = nil
    }
}
