internal import CLibUV

extension TCPConnection {
    /// Connects to `host:port` (a host name, an IPv4 or an IPv6 literal) asynchronously (`uv_tcp_connect`). `completion` runs
    /// later on the loop thread, never inside this call, with the connected stream (not yet reading) or the error,
    /// such as `ECONNREFUSED`, or `ECANCELED` if the loop was torn down first.
    public static func connect(
        loop: EventLoop,
        host: String,
        port: Int,
        completion: @escaping (Result<TCPConnection, UVError>) -> Void
    ) {
        do {
            attempt(try SocketAddress.resolve(host: host, port: port)[...], loop: loop, completion)
        } catch {
            fail(completion, with: error, on: loop)
        }
    }

    /// Tries `addresses` in order until one connects (`localhost` may name ::1 first while the server listens on
    /// 127.0.0.1); the last one's error is the one reported.
    private static func attempt(
        _ addresses: ArraySlice<sockaddr_storage>,
        loop: EventLoop,
        _ completion: @escaping (Result<TCPConnection, UVError>) -> Void
    ) {
        do {
            let connection = try unsafe TCPConnection(loop: loop.loop)
            // Weak: the completion is stored on the connection, which the loop's handles keep; and a connect
            // cancelled because the loop is going away (ECANCELED) tries nothing more.
            connection.startConnect(to: addresses[addresses.startIndex], loop: loop) { [weak loop] result in
                if case .failure(let error) = result, addresses.count > 1, let loop,
                    error.code != UV_ECANCELED.rawValue
                {
                    attempt(addresses.dropFirst(), loop: loop, completion)
                } else {
                    completion(result)
                }
            }
        } catch {
            fail(completion, with: error, on: loop)
        }
    }

    private func startConnect(
        to address: sockaddr_storage,
        loop: EventLoop,
        _ completion: @escaping (Result<TCPConnection, UVError>) -> Void
    ) {
        connectCompletion = completion
        let request = UnsafeMutablePointer<uv_connect_t>.allocate(capacity: 1)
        let rc = unsafe withUnsafePointer(to: address) { address in
            unsafe uv_tcp_connect(request, handle, cuv_sockaddr(address)) { request, status in
                unsafe TCPConnection.didConnect(request, status)
            }
        }
        guard rc == 0 else {
            unsafe request.deallocate()
            connectCompletion = nil
            close()
            Self.fail(completion, with: UVError(call: "uv_tcp_connect", code: rc), on: loop)
            return
        }
    }

    private static func didConnect(_ request: UnsafeMutablePointer<uv_connect_t>?, _ status: Int32) {
        let connection = unsafe owner(TCPConnection.self, of: request!.pointee.handle)
        unsafe request!.deallocate()
        connection.finishConnect(status)
    }

    private func finishConnect(_ status: Int32) {
        guard let completion = connectCompletion else { return }
        connectCompletion = nil
        if status < 0 {
            close()
            completion(.failure(UVError(call: "uv_tcp_connect", code: status)))
        } else {
            didOpen()
            completion(.success(self))
        }
    }

    /// Delivers a failure found before libuv was involved on the next loop turn, as promised, via a 0 ms timer.
    private static func fail(
        _ completion: @escaping (Result<TCPConnection, UVError>) -> Void,
        with error: UVError,
        on loop: EventLoop
    ) {
        guard let timer = try? Timer(loop: loop) else {
            // uv_timer_init cannot fail on Linux; should it ever, an early completion beats a lost one.
            completion(.failure(error))
            return
        }
        // The timer's callback captures the timer; closing it drops the callback and so the cycle.
        timer.start(afterMilliseconds: 0) {
            timer.close()
            completion(.failure(error))
        }
    }
}
