internal import CLibUV
internal import Glibc
internal import Synchronization

/// One libuv loop (`uv_loop_t`). Loop-thread only: not `Sendable`; other threads get in only through `Wakeup`.
///
/// The loop owns one 64 KiB read buffer shared by all its connections (`uv_loop_t.data` points at it): libuv calls
/// a read callback right after each allocation, and `TCPConnection` copies the bytes out before returning.
///
/// Handles keep themselves alive while open, so capture the loop `unowned` in their callbacks: a strong capture
/// keeps the loop alive until that handle is closed, and a loop never deinitialized never closes it.
@safe public final class EventLoop {
    static let readBufferSize = 64 * 1024

    let loop: UnsafeMutablePointer<uv_loop_t>
    private let readBuffer: UnsafeMutableRawPointer
    /// The thread inside `run()` or `runOnce()`, so that a `Wakeup` sent from the loop's own callbacks needs no
    /// syscall.
    let runner = LoopRunner()

    /// Creates and initializes a loop (`uv_loop_init`).
    public init() throws(UVError) {
        Self.ignoreBrokenPipe()
        let loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
        do {
            try check(unsafe uv_loop_init(loop), "uv_loop_init")
        } catch {
            unsafe loop.deallocate()
            throw error
        }
        let readBuffer = UnsafeMutableRawPointer.allocate(byteCount: Self.readBufferSize, alignment: 16)
        unsafe loop.pointee.data = readBuffer
        unsafe self.loop = loop
        unsafe self.readBuffer = readBuffer
    }

    /// libuv writes to sockets with write(2): a peer that has closed raises SIGPIPE, whose default kills the
    /// process (daemon, worker or admin tool). Ignored, the write fails with EPIPE and closes that connection only.
    /// Only the default action is replaced: a handler the program installed stays.
    private static func ignoreBrokenPipe() {
        var current = sigaction()
        guard unsafe sigaction(SIGPIPE, nil, &current) == 0,
            unsafe current.__sigaction_handler.sa_handler == nil
        else { return }
        _ = signal(SIGPIPE, SIG_IGN)
    }

    /// Runs the loop (`UV_RUN_DEFAULT`) until `stop()` is called or no active, referenced handles or requests remain.
    public func run() {
        let outer = runner.enter()
        defer { runner.leave(restoring: outer) }
        unsafe uv_run(loop, UV_RUN_DEFAULT)
    }

    /// Runs one loop turn: `UV_RUN_ONCE` (blocks for I/O when there is nothing pending) when `wait` is true, else
    /// `UV_RUN_NOWAIT`. Returns whether the loop still has work (`uv_run` returned non-zero).
    @discardableResult
    public func runOnce(wait: Bool) -> Bool {
        let outer = runner.enter()
        defer { runner.leave(restoring: outer) }
        return unsafe uv_run(loop, wait ? UV_RUN_ONCE : UV_RUN_NOWAIT) != 0
    }

    /// Makes `run()` return after the current turn (`uv_stop`).
    public func stop() {
        unsafe uv_stop(loop)
    }

    /// The loop's cached monotonic time in milliseconds (`uv_now`), updated at the start of each turn.
    public var now: UInt64 { unsafe uv_now(loop) }

    /// Refreshes the cached time (`uv_update_time`).
    public func updateTime() {
        unsafe uv_update_time(loop)
    }

    /// The shared read buffer, for `uv_alloc_cb`.
    static func readBuffer(of handle: UnsafeMutablePointer<uv_handle_t>?) -> uv_buf_t {
        unsafe uv_buf_init(handle!.pointee.loop.pointee.data, UInt32(readBufferSize))
    }

    // Closes every handle still open (their wrappers' close callbacks run user `onClose`s and release the wrappers),
    // runs the loop until they are all closed, then closes and frees the loop. A handle opened by a close callback
    // is caught by the next pass.
    deinit {
        var status: Int32 = UV_EBUSY.rawValue
        while status == UV_EBUSY.rawValue {
            unsafe uv_walk(loop, { handle, _ in unsafe EventLoop.closeAbandoned(handle) }, nil)
            unsafe uv_run(loop, UV_RUN_DEFAULT)
            status = unsafe uv_loop_close(loop)
        }
        checkInvariant(status, "uv_loop_close")
        unsafe readBuffer.deallocate()
        unsafe loop.deallocate()
    }

    private static func closeAbandoned(_ handle: UnsafeMutablePointer<uv_handle_t>?) {
        guard let handle = unsafe handle, unsafe uv_is_closing(handle) == 0 else { return }
        guard let data = unsafe handle.pointee.data else {
            // Every wrapper adopts its handle right after init, so this is a handle we did not make.
            preconditionFailure("EventLoop.deinit: open handle of type \(unsafe handle.pointee.type) without owner")
        }
        guard let wrapper = unsafe Unmanaged<AnyObject>.fromOpaque(data).takeUnretainedValue() as? LoopHandle
        else { preconditionFailure("EventLoop.deinit: handle.data is not a FlowlineUV wrapper") }
        wrapper.close()
    }
}

/// Which thread is running a loop (0: none). Set and cleared by that thread; read by any thread, which only asks
/// whether the runner is itself, so relaxed ordering is enough: a thread always sees its own last store.
final class LoopRunner: Sendable {
    private let thread = Atomic<UInt>(0)

    /// Marks the calling thread as the runner; returns the previous mark, for a nested run.
    func enter() -> UInt { thread.exchange(Self.current, ordering: .relaxed) }

    func leave(restoring outer: UInt) { thread.store(outer, ordering: .relaxed) }

    /// Whether the calling thread is inside this loop's `uv_run`.
    var isCurrentThread: Bool { thread.load(ordering: .relaxed) == Self.current }

    private static var current: UInt { UInt(unsafe uv_thread_self()) }
}
