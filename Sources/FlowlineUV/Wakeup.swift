internal import CLibUV
internal import Synchronization

/// Wakes the loop from another thread (`uv_async_t`): the only door into the loop thread.
///
/// `@unchecked Sendable` invariant: `send()` is the only member other threads may call. It is `uv_async_send`, which
/// libuv documents as thread-safe, and it runs under `isOpen`'s lock, which `close()` clears before `uv_close`, so it
/// never touches the handle after the close began (the handle is freed in the close callback). Everything else,
/// including the callback, stays on the loop thread. Several sends before the loop wakes coalesce into one call.
///
/// A send from the loop's own thread while it runs (an inline task's job, the outcome it posts) takes no syscall:
/// it starts an idle handle instead of writing the async handle's eventfd, and the callback runs at the start of
/// the next turn, before the prepare hooks flush the turn's writes.
@safe public final class Wakeup: LoopHandle, @unchecked Sendable {
    private let handle: UnsafeMutablePointer<uv_async_t>
    private let isOpen = Mutex(true)
    private var callback: (() -> Void)?
    private let runner: LoopRunner
    private let idle: IdleHandle
    /// Loop thread only: a send from the loop thread is waiting for the idle handle.
    private var isSentLocally = false

    /// Creates the wakeup on `loop` (`uv_async_init`); `callback` runs on the loop thread after `send()`.
    public init(loop: EventLoop, _ callback: @escaping () -> Void) throws(UVError) {
        // The idle handle reaches the wakeup through a weak box: the wakeup does not exist yet, and the handle's
        // own retain must not keep the wakeup alive.
        final class Box { weak var wakeup: Wakeup? }
        let box = Box()
        idle = try IdleHandle(loop: loop) { box.wakeup?.fireLocal() }
        runner = loop.runner
        let handle: UnsafeMutablePointer<uv_async_t>
        do {
            unsafe handle = try makeHandle(uv_async_t.self, "uv_async_init") {
                unsafe uv_async_init(loop.loop, $0, { unsafe owner(Wakeup.self, of: $0).fire() })
            }
        } catch {
            idle.close()
            throw error
        }
        unsafe self.handle = handle
        self.callback = callback
        unsafe super.init(adopting: handle)
        box.wakeup = self
    }

    /// Schedules the callback on the loop thread (`uv_async_send`). Any thread; a no-op once `close()` has begun.
    public func send() {
        if runner.isCurrentThread {
            guard !isClosing, !isSentLocally else { return }
            isSentLocally = true
            idle.start()
            return
        }
        isOpen.withLock { isOpen in
            if isOpen { checkInvariant(unsafe uv_async_send(handle), "uv_async_send") }
        }
    }

    /// Lets `EventLoop.run()` return while this wakeup is the only thing left (`uv_unref`). Loop thread only.
    public override func unref() {
        guard !isClosing else { return }
        super.unref()
        idle.unref()
    }

    // `close()` is the loop thread's; once it has begun, `send()`s from any thread do nothing.
    override func willClose() {
        isOpen.withLock { $0 = false }
        idle.close()
    }

    private func fire() {
        callback?()
    }

    private func fireLocal() {
        idle.stop()
        isSentLocally = false
        callback?()
    }

    override func didClose() {
        callback = nil
    }
}
