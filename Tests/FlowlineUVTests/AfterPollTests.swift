import FlowlineUV
import Testing

@Suite(.timeLimit(.minutes(1)))
struct AfterPollTests {
    /// A timer due at once hands its work to `AfterPoll`: the work sees the bytes that were waiting in the socket
    /// when the timer went off, whichever of the two libuv ran first.
    @Test func runsAfterThePollHasReadWhatWaited() throws {
        let loop = try EventLoop()
        var server: TCPConnection?
        var received: [UInt8] = []
        let listener = try TCPListener(loop: loop, host: "127.0.0.1", port: 0) { connection in
            connection.onRead = { received += $0 }
            connection.startReading()
            server = connection
        }
        var client: TCPConnection?
        TCPConnection.connect(loop: loop, host: "127.0.0.1", port: listener.port) { client = try? $0.get() }
        for _ in 0..<1000 where client == nil || server == nil { loop.runOnce(wait: true) }
        let connected = try #require(client)
        let afterPoll = try AfterPoll(loop: loop)
        let timer = try Timer(loop: loop)
        var seen: [UInt8]?
        connected.write([1, 2, 3])
        timer.start(afterMilliseconds: 0) {
            afterPoll.schedule {
                seen = received
                timer.close()
                afterPoll.close()
                connected.close()
                server?.close()
                listener.close()
            }
            #expect(afterPoll.isScheduled)
        }
        #expect(runBounded(loop))
        #expect(seen == [1, 2, 3])
    }

    /// Scheduled with nothing else to do, the callback still runs: the poll it waits for does not block.
    @Test func thePollItWaitsForDoesNotBlock() throws {
        let loop = try EventLoop()
        let afterPoll = try AfterPoll(loop: loop)
        var ran = 0
        afterPoll.schedule { ran += 1 }
        afterPoll.schedule { ran += 10 }
        loop.runOnce(wait: true)
        #expect(ran == 1, "one callback, once")
        #expect(!afterPoll.isScheduled)
        afterPoll.close()
        #expect(!loop.runOnce(wait: false))
    }
}
