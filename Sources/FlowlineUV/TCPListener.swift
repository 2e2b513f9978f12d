internal import CLibUV

/// A listening TCP socket (`uv_tcp_t` + `uv_listen`). Loop thread only.
///
/// An open listener keeps its object alive and `EventLoop.run()` running until `close()`.
@safe public final class TCPListener: LoopHandle {
    private let handle: UnsafeMutablePointer<uv_tcp_t>
    private let loop: UnsafeMutablePointer<uv_loop_t>
    private var onConnection: ((TCPConnection) -> Void)?

    /// The port actually bound (`uv_tcp_getsockname`): the requested one, or the one the kernel chose for port 0.
    public private(set) var port = 0
    /// The numeric address actually bound (`127.0.0.1`, `::1`), whatever name it was asked for.
    public private(set) var host = ""

    /// Called when accepting a connection fails (`uv_listen` status or `uv_accept`, e.g. `EMFILE`); the listener
    /// stays open. Without it such failures are dropped, as there is no connection to report them on.
    public var onAcceptError: ((UVError) -> Void)?

    /// Binds `host:port` (a host name, an IPv4 or an IPv6 literal; port 0 picks a free port) and starts listening
    /// (`uv_tcp_bind`, `uv_listen`). Every accepted connection goes to `onConnection`, accepted but not yet reading.
    /// Throws e.g. `EADDRINUSE` (from `uv_tcp_bind` or, as libuv may defer it, `uv_listen`) or `EINVAL` (bad host).
    public init(
        loop: EventLoop,
        host: String,
        port: Int,
        backlog: Int32 = 511,
        onConnection: @escaping (TCPConnection) -> Void
    ) throws(UVError) {
        let address = try SocketAddress.resolve(host: host, port: port)[0]
        let handle = try unsafe makeHandle(uv_tcp_t.self, "uv_tcp_init") { unsafe uv_tcp_init(loop.loop, $0) }
        unsafe self.handle = handle
        unsafe self.loop = loop.loop
        self.onConnection = onConnection
        unsafe super.init(adopting: handle)
        do {
            try check(
                unsafe withUnsafePointer(to: address) { unsafe uv_tcp_bind(handle, cuv_sockaddr($0), 0) },
                "uv_tcp_bind"
            )
            let rc = unsafe uv_listen(cuv_stream(handle), backlog) { server, status in
                unsafe owner(TCPListener.self, of: server).accept(status)
            }
            try check(rc, "uv_listen")
            let bound = try unsafe SocketAddress.address(of: handle, peer: false)
            self.port = bound.port
            self.host = bound.host
        } catch {
            close()
            throw error
        }
    }

    private func accept(_ status: Int32) {
        do throws(UVError) {
            try check(status, "uv_listen")
            let connection = try unsafe TCPConnection(loop: loop)
            do {
                try check(unsafe uv_accept(cuv_stream(handle), cuv_stream(connection.handle)), "uv_accept")
            } catch {
                connection.close()
                throw error
            }
            connection.didOpen()
            onConnection?(connection)
        } catch {
            onAcceptError?(error)
        }
    }

    override func didClose() {
        onConnection = nil
        onAcceptError = nil
    }
}
