import FlowlineUV
import Testing

@Suite(.timeLimit(.minutes(1)))
struct TCPListenerTests {
    @Test func portZeroReportsTheBoundPort() throws {
        let loop = try EventLoop()
        let listener = try TCPListener(loop: loop, host: "127.0.0.1", port: 0) { _ in }
        #expect(listener.port > 0 && listener.port <= 65535)
        listener.close()
        listener.close()  // Idempotent.
        #expect(runBounded(loop))
    }

    @Test func aPortInUseIsAddressInUse() throws {
        let loop = try EventLoop()
        let first = try TCPListener(loop: loop, host: "127.0.0.1", port: 0) { _ in }
        let error = #expect(throws: UVError.self) {
            try TCPListener(loop: loop, host: "127.0.0.1", port: first.port) { _ in }
        }
        #expect(error?.name == "EADDRINUSE")
        #expect(error?.description.hasSuffix(": address already in use") == true)
        #expect(["uv_tcp_bind", "uv_listen"].contains(error?.call))
        first.close()
        #expect(runBounded(loop))
    }

    // Only names the resolver answers from /etc/hosts: a test sends no DNS query.
    @Test func aHostNameIsResolvedAndTheNumericAddressBoundIsKnown() throws {
        let loop = try EventLoop()
        let listener = try TCPListener(loop: loop, host: "localhost", port: 0) { _ in }
        #expect(["127.0.0.1", "::1"].contains(listener.host) && listener.port > 0)
        listener.close()
        #expect(runBounded(loop))
    }

    @Test func anEmptyHostIsNoName() throws {
        let loop = try EventLoop()
        let error = #expect(throws: UVError.self) { try TCPListener(loop: loop, host: "", port: 0) { _ in } }
        #expect(error?.name == "EAI_NONAME" && error?.call == "getaddrinfo")
    }

    @Test func outOfRangePortIsInvalid() throws {
        let loop = try EventLoop()
        let error = #expect(throws: UVError.self) {
            try TCPListener(loop: loop, host: "127.0.0.1", port: 70000) { _ in }
        }
        #expect(error?.name == "EINVAL")
    }
}
