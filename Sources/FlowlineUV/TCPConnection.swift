internal import CLibUV

/// One TCP stream (`uv_tcp_t`). Loop thread only; every callback runs on the loop thread.
///
/// Writes are queued in order; each `write` hands libuv its own copy, freed by its write callback. An open
/// connection keeps its object alive until it closes: by `close()`, by EOF or a read or write error, or by
/// `EventLoop.deinit`. `onClose` runs once, after the handle is closed and every write callback has run.
@safe public final class TCPConnection: LoopHandle {
    let handle: UnsafeMutablePointer<uv_tcp_t>
    private var isShuttingDown = false
    private var isReading = false
    private var closeError: UVError?
    /// The pending `connect` completion; set only between `uv_tcp_connect` and its callback.
    var connectCompletion: ((Result<TCPConnection, UVError>) -> Void)?

    /// Each chunk read, copied out of the loop's shared 64 KiB read buffer. Set it before `startReading()`.
    public var onRead: (([UInt8]) -> Void)?

    /// Called once, after the handle is closed: `nil` after EOF or `close()`, else the read or write error.
    /// EOF closes the whole connection (no half-close), cancelling writes still queued.
    public var onClose: ((UVError?) -> Void)?

    /// Bytes handed to `write(_:)` that the kernel did not take at once and whose write callback has not come yet
    /// (sent, failed or cancelled).
    public private(set) var pendingWriteBytes = 0

    /// Bytes queued in libuv that the kernel has not taken yet (`uv_stream_get_write_queue_size`): what a peer
    /// that does not read makes us hold. Unlike `pendingWriteBytes` it excludes bytes already written whose write
    /// callback has not run, so a burst to a peer that reads does not count against it.
    public var unsentBytes: Int {
        guard !isClosing else { return 0 }
        return unsafe Int(uv_stream_get_write_queue_size(cuv_stream(handle)))
    }

    /// The remote address, as `"127.0.0.1:54321"` or `"[::1]:54321"` (`"unknown"` if the kernel did not say).
    public private(set) var peer = "unknown"

    /// Whether the connection has begun closing; reads and writes are over.
    public var isClosed: Bool { isClosing }

    /// A fresh TCP handle on `loop`, adopted but not yet connected.
    init(loop: UnsafeMutablePointer<uv_loop_t>) throws(UVError) {
        let handle = try unsafe makeHandle(uv_tcp_t.self, "uv_tcp_init") { unsafe uv_tcp_init(loop, $0) }
        unsafe self.handle = handle
        unsafe super.init(adopting: handle)
    }

    /// Records what an open stream needs; called once, after `uv_accept` or a successful connect.
    func didOpen() {
        peer = unsafe SocketAddress.peerDescription(of: handle) ?? "unknown"
    }

    // MARK: - Reading

    /// Starts delivering reads to `onRead` (`uv_read_start`); idempotent. A failure closes the connection with it.
    public func startReading() {
        guard !isClosing, !isReading else { return }
        let rc = unsafe uv_read_start(
            cuv_stream(handle),
            { handle, _, buffer in unsafe buffer!.pointee = EventLoop.readBuffer(of: handle) },
            { stream, count, buffer in unsafe owner(TCPConnection.self, of: stream).didRead(count, buffer) }
        )
        if rc < 0 {
            close(error: UVError(call: "uv_read_start", code: rc))
        } else {
            isReading = true
        }
    }

    /// Stops delivering reads (`uv_read_stop`), for backpressure; the kernel buffers, then the peer waits.
    public func stopReading() {
        guard !isClosing, isReading else { return }
        isReading = false
        unsafe uv_read_stop(cuv_stream(handle))
    }

    private func didRead(_ count: Int, _ buffer: UnsafePointer<uv_buf_t>?) {
        if count > 0 {
            let bytes = unsafe [UInt8](UnsafeRawBufferPointer(start: buffer!.pointee.base, count: count))
            onRead?(bytes)
        } else if count == Int(UV_EOF.rawValue) {
            close()
        } else if count < 0 {
            close(error: UVError(call: "uv_read", code: Int32(count)))
        }
        // A count of 0 is libuv's EAGAIN: nothing was read and the buffer goes back unused.
    }

    // MARK: - Writing

    /// Queues a copy of `bytes` (`uv_write`). Dropped once the connection is closing. A failure, now or in the
    /// write callback, closes the connection with that error.
    ///
    /// When nothing is queued, the bytes go to the kernel at once (`uv_try_write`) and only what it did not take is
    /// queued: a write that completes needs no request, no callback and no extra loop iteration.
    public func write(_ bytes: [UInt8]) {
        guard !isClosing, !isShuttingDown, !bytes.isEmpty else { return }
        precondition(bytes.count <= Int(UInt32.max), "TCPConnection.write: \(bytes.count) bytes in one uv_buf_t")
        // libuv refuses (UV_EAGAIN) while earlier writes are queued, so the order on the wire is kept.
        let written = unsafe bytes.withUnsafeBytes { raw in
            var buffer = unsafe uv_buf_init(
                unsafe UnsafeMutableRawPointer(mutating: raw.baseAddress!).assumingMemoryBound(to: CChar.self),
                UInt32(raw.count)
            )
            return unsafe uv_try_write(cuv_stream(handle), &buffer, 1)
        }
        if written == Int32(bytes.count) { return }
        if written < 0 && written != UV_EAGAIN.rawValue {
            close(error: UVError(call: "uv_try_write", code: written))
            return
        }
        queue(written > 0 ? bytes[Int(written)...] : bytes[...])
    }

    /// Queues a copy of `bytes` behind earlier writes (`uv_write`).
    private func queue(_ bytes: ArraySlice<UInt8>) {
        // One allocation holds the byte count (for pendingWriteBytes in the callback) followed by the copy.
        let header = MemoryLayout<Int>.stride
        let storage = UnsafeMutableRawPointer.allocate(byteCount: header + bytes.count, alignment: 16)
        unsafe storage.storeBytes(of: bytes.count, as: Int.self)
        let payload = unsafe storage + header
        unsafe bytes.withUnsafeBytes { unsafe payload.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        let request = UnsafeMutablePointer<uv_write_t>.allocate(capacity: 1)
        unsafe request.pointee.data = storage
        // uv_write copies the uv_buf_t array itself, so the local buffer descriptor may go out of scope.
        var buffer = unsafe uv_buf_init(payload.assumingMemoryBound(to: CChar.self), UInt32(bytes.count))
        let rc = unsafe uv_write(request, cuv_stream(handle), &buffer, 1) { request, status in
            unsafe TCPConnection.didWrite(request, status)
        }
        guard rc == 0 else {
            unsafe storage.deallocate()
            unsafe request.deallocate()
            close(error: UVError(call: "uv_write", code: rc))
            return
        }
        pendingWriteBytes += bytes.count
    }

    private static func didWrite(_ request: UnsafeMutablePointer<uv_write_t>?, _ status: Int32) {
        let request = unsafe request!
        let storage = unsafe request.pointee.data!
        let count = unsafe storage.load(as: Int.self)
        let connection = unsafe owner(TCPConnection.self, of: request.pointee.handle)
        unsafe storage.deallocate()
        unsafe request.deallocate()
        connection.didWrite(count, status)
    }

    private func didWrite(_ count: Int, _ status: Int32) {
        pendingWriteBytes -= count
        // ECANCELED means close() already ended the connection; its onClose carries the reason.
        if status < 0 && status != UV_ECANCELED.rawValue {
            close(error: UVError(call: "uv_write", code: status))
        }
    }

    // MARK: - Options and closing

    /// Turns Nagle's algorithm off (`true`) or on (`uv_tcp_nodelay`). A failure closes the connection with it.
    public func setNoDelay(_ on: Bool) {
        guard !isClosing else { return }
        let rc = unsafe uv_tcp_nodelay(handle, on ? 1 : 0)
        if rc < 0 { close(error: UVError(call: "uv_tcp_nodelay", code: rc)) }
    }

    /// Closes the connection now (`uv_close`); idempotent. libuv cancels writes still queued (their callbacks run
    /// with `ECANCELED`, so `pendingWriteBytes` returns to 0), then `onClose(nil)` runs.
    public override func close() {
        close(error: nil)
    }

    /// Closes the connection once every queued write is flushed (`uv_shutdown`, then `uv_close`); idempotent.
    /// Later writes are dropped. `onClose` gets `nil`, or the `uv_shutdown` error if flushing failed.
    public func closeAfterWrites() {
        guard !isClosing, !isShuttingDown else { return }
        isShuttingDown = true
        let request = UnsafeMutablePointer<uv_shutdown_t>.allocate(capacity: 1)
        let rc = unsafe uv_shutdown(request, cuv_stream(handle)) { request, status in
            unsafe TCPConnection.didShutdown(request, status)
        }
        if rc < 0 {
            unsafe request.deallocate()
            close(error: UVError(call: "uv_shutdown", code: rc))
        }
    }

    private static func didShutdown(_ request: UnsafeMutablePointer<uv_shutdown_t>?, _ status: Int32) {
        let connection = unsafe owner(TCPConnection.self, of: request!.pointee.handle)
        unsafe request!.deallocate()
        let failed = status < 0 && status != UV_ECANCELED.rawValue
        connection.close(error: failed ? UVError(call: "uv_shutdown", code: status) : nil)
    }

    func close(error: UVError?) {
        guard !isClosing else { return }
        isReading = false
        closeError = error
        super.close()
    }

    override func didClose() {
        let onClose = self.onClose
        // Dropping the closures breaks any cycle through a closure that captured this connection.
        self.onClose = nil
        onRead = nil
        connectCompletion = nil
        onClose?(closeError)
    }
}
