import FlowlineUV
import Testing

@Suite(.timeLimit(.minutes(1)))
struct TCPConnectionTests {
    @Test("a client gets back what the echo server read", arguments: [5, 1 << 20])
    func echoRoundTrip(size: Int) throws {
        let loop = try EventLoop()
        let listener = try echoListener(on: loop)
        let payload = pattern(count: size)
        var received: [UInt8] = []
        var pendingAfterWrite = -1
        var pendingAtEnd = -1
        var closeReason: UVError?? = .none
        TCPConnection.connect(loop: loop, host: "127.0.0.1", port: listener.port) { result in
            guard case .success(let client) = result else {
                Issue.record("connect failed: \(result)")
                listener.close()
                return
            }
            client.setNoDelay(true)
            client.onRead = { bytes in
                received += bytes
                if received.count >= payload.count {
                    pendingAtEnd = client.pendingWriteBytes
                    client.close()
                    listener.close()
                }
            }
            client.onClose = { closeReason = .some($0) }
            client.startReading()
            client.write(payload)
            pendingAfterWrite = client.pendingWriteBytes
        }
        #expect(runBounded(loop))
        #expect(received == payload)
        // What the kernel took at once (uv_try_write) is not pending; the rest waits for its write callback.
        #expect(pendingAfterWrite <= payload.count)
        #expect(pendingAtEnd == 0)
        #expect(closeReason == .some(nil))
    }

    @Test func peerIsAddressAndPort() throws {
        let loop = try EventLoop()
        var serverSide = ""
        var clientSide = ""
        var clientPort = -1
        let listener = try TCPListener(loop: loop, host: "127.0.0.1", port: 0) { connection in
            serverSide = connection.peer
            connection.close()
        }
        TCPConnection.connect(loop: loop, host: "127.0.0.1", port: listener.port) { result in
            if case .success(let client) = result {
                clientSide = client.peer
                client.onClose = { _ in listener.close() }
                client.startReading()
            }
        }
        #expect(runBounded(loop))
        #expect(clientSide == "127.0.0.1:\(listener.port)")
        if let colon = serverSide.lastIndex(of: ":") {
            clientPort = Int(serverSide[serverSide.index(after: colon)...]) ?? -1
        }
        #expect(serverSide.hasPrefix("127.0.0.1:"))
        #expect(clientPort > 0)
    }

    @Test func onCloseFiresWithNilWhenThePeerCloses() throws {
        let loop = try EventLoop()
        var serverClose: UVError?? = .none
        var serverSawClosed = false
        var server: TCPConnection?
        let listener = try TCPListener(loop: loop, host: "127.0.0.1", port: 0) { connection in
            server = connection
            connection.onClose = { reason in
                serverClose = .some(reason)
                serverSawClosed = connection.isClosed
            }
            connection.startReading()
            connection.startReading()  // Idempotent.
        }
        TCPConnection.connect(loop: loop, host: "127.0.0.1", port: listener.port) { result in
            guard case .success(let client) = result else {
                Issue.record("connect failed: \(result)")
                return
            }
            client.close()
            client.close()  // Idempotent.
            listener.close()
        }
        #expect(runBounded(loop))
        #expect(serverClose == .some(nil))
        #expect(serverSawClosed)
        #expect(server?.isClosed == true)
        server?.write([1, 2, 3])  // Dropped after close, no crash.
        #expect(server?.pendingWriteBytes == 0)
    }

    @Test func connectToAClosedPortFails() throws {
        let loop = try EventLoop()
        let probe = try TCPListener(loop: loop, host: "127.0.0.1", port: 0) { _ in }
        let port = probe.port
        probe.close()
        loop.runOnce(wait: false)
        var outcome: Result<TCPConnection, UVError>?
        TCPConnection.connect(loop: loop, host: "127.0.0.1", port: port) { outcome = $0 }
        #expect(runBounded(loop))
        let error = try #require(
            outcome.map { result -> UVError? in
                if case .failure(let error) = result { return error }
                return nil
            } ?? nil
        )
        #expect(error.call == "uv_tcp_connect")
        #expect(error.name == "ECONNREFUSED")
        #expect(error.description == "uv_tcp_connect: connection refused")
    }

    @Test func aBadHostFailsOnTheLoopNotInsideConnect() throws {
        let loop = try EventLoop()
        var outcome: Result<TCPConnection, UVError>?
        // An empty name: the resolver refuses it without asking DNS.
        TCPConnection.connect(loop: loop, host: "", port: 80) { outcome = $0 }
        #expect(outcome == nil)
        #expect(runBounded(loop))
        guard case .failure(let error) = outcome else {
            Issue.record("expected a failure, got \(String(describing: outcome))")
            return
        }
        #expect(error.name == "EAI_NONAME")
    }

    @Test func closingWithWritesQueuedCancelsThem() throws {
        let loop = try EventLoop()
        var server: TCPConnection?
        // The server never reads, so the kernel buffers fill and most of the 32 MiB stays queued in libuv.
        let listener = try TCPListener(loop: loop, host: "127.0.0.1", port: 0) { server = $0 }
        var client: TCPConnection?
        var pendingBeforeClose = 0
        var pendingAtClose = -1
        var closeReason: UVError?? = .none
        TCPConnection.connect(loop: loop, host: "127.0.0.1", port: listener.port) { result in
            guard case .success(let connection) = result else {
                Issue.record("connect failed: \(result)")
                return
            }
            client = connection
            let chunk = pattern(count: 1 << 20)
            for _ in 0..<32 { connection.write(chunk) }
            connection.onClose = { reason in
                closeReason = .some(reason)
                pendingAtClose = connection.pendingWriteBytes
                server?.close()
                listener.close()
            }
        }
        let closer = try Timer(loop: loop)
        closer.start(afterMilliseconds: 50) {
            pendingBeforeClose = client?.pendingWriteBytes ?? 0
            client?.close()
            closer.close()
        }
        #expect(runBounded(loop))
        #expect(pendingBeforeClose > 0)
        #expect(pendingAtClose == 0)
        #expect(closeReason == .some(nil))
    }

    @Test func closeAfterWritesFlushesFirst() throws {
        let loop = try EventLoop()
        let payload = pattern(count: 1 << 20)
        var received: [UInt8] = []
        var serverClose: UVError?? = .none
        var clientClose: UVError?? = .none
        let listener = try TCPListener(loop: loop, host: "127.0.0.1", port: 0) { connection in
            connection.onRead = { received += $0 }
            connection.onClose = { serverClose = .some($0) }
            connection.startReading()
        }
        TCPConnection.connect(loop: loop, host: "127.0.0.1", port: listener.port) { result in
            guard case .success(let client) = result else {
                Issue.record("connect failed: \(result)")
                return
            }
            client.onClose = { clientClose = .some($0) }
            client.write(payload)
            client.closeAfterWrites()
            client.write([1])  // Dropped: the stream is shutting down.
            listener.close()
        }
        #expect(runBounded(loop))
        #expect(received == payload)
        #expect(serverClose == .some(nil))
        #expect(clientClose == .some(nil))
    }

    @Test func stopReadingPausesDelivery() throws {
        let loop = try EventLoop()
        var reads = 0
        var server: TCPConnection?
        let listener = try TCPListener(loop: loop, host: "127.0.0.1", port: 0) { connection in
            server = connection
            connection.onRead = { _ in reads += 1 }
            connection.startReading()
            connection.stopReading()
        }
        var client: TCPConnection?
        TCPConnection.connect(loop: loop, host: "127.0.0.1", port: listener.port) { result in
            client = try? result.get()
            client?.write([1, 2, 3])
        }
        let step = try Timer(loop: loop)
        step.start(afterMilliseconds: 100) {
            #expect(reads == 0)
            server?.onRead = { _ in
                reads += 1
                client?.close()
                server?.close()
                listener.close()
            }
            server?.startReading()
            step.close()
        }
        #expect(runBounded(loop))
        #expect(reads == 1)
    }
}
