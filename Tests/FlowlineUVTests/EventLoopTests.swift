import FlowlineUV
import Glibc
import Testing

@Suite(.timeLimit(.minutes(1)))
struct EventLoopTests {
    @Test func emptyLoopHasNoWork() throws {
        let loop = try EventLoop()
        #expect(!loop.runOnce(wait: false))
        #expect(!loop.runOnce(wait: true))
        loop.run()
    }

    @Test func stopEndsRun() throws {
        let loop = try EventLoop()
        let hook = try TurnHook(loop: loop) {}
        let timer = try Timer(loop: loop)
        timer.start(afterMilliseconds: 5) { [unowned loop] in loop.stop() }
        // The hook keeps the loop alive, so only stop() can end run().
        #expect(runBounded(loop))
        hook.close()
        timer.close()
    }

    /// What happened to the handles of a loop that was dropped with them open.
    private final class Abandoned {
        var closes: [String] = []
        var pendingConnect: UVError?
        var sentSecondConnect = false
        var weakReferences: [() -> AnyObject?] = []

        func watch(_ object: AnyObject) { weakReferences.append { [weak object] in object } }
    }

    /// Opens one handle of every kind on a loop (plus a connection pair with 1 MiB queued and a connect in flight),
    /// then returns without closing any of them, so the loop's deinit must.
    private func abandonLoopWithOpenHandles(_ log: Abandoned) throws {
        let loop = try EventLoop()
        log.watch(loop)
        var listenerPort = 0
        let listener = try TCPListener(loop: loop, host: "127.0.0.1", port: 0) { [unowned loop] connection in
            connection.onClose = { log.closes.append("server \($0.map(String.init(describing:)) ?? "nil")") }
            connection.startReading()
            guard !log.sentSecondConnect else { return }
            log.sentSecondConnect = true
            // A connect still in flight when the loop goes: its completion gets ECANCELED. (The kernel may complete
            // it at once, so the listener may accept it within this same turn.)
            TCPConnection.connect(loop: loop, host: "127.0.0.1", port: listenerPort) { result in
                if case .failure(let error) = result { log.pendingConnect = error }
            }
            loop.stop()
        }
        listenerPort = listener.port
        TCPConnection.connect(loop: loop, host: "127.0.0.1", port: listener.port) { result in
            guard case .success(let client) = result else {
                Issue.record("connect failed: \(result)")
                return
            }
            log.watch(client)
            client.onClose = { log.closes.append("client \($0.map(String.init(describing:)) ?? "nil")") }
            client.write(pattern(count: 1 << 20))
        }
        let timer = try Timer(loop: loop)
        timer.start(afterMilliseconds: 1, repeatMilliseconds: 1) {}
        let hook = try TurnHook(loop: loop) {}
        let wakeup = try Wakeup(loop: loop) {}
        let signal = try SignalWatcher(loop: loop, signal: SIGUSR2) {}
        for object: AnyObject in [listener, timer, hook, wakeup, signal] { log.watch(object) }
        #expect(runBounded(loop))
        #expect(log.weakReferences.count == 7)
    }

    @Test func deinitClosesOpenHandlesAndReleasesThem() throws {
        let log = Abandoned()
        try abandonLoopWithOpenHandles(log)
        #expect(log.weakReferences.allSatisfy { $0() == nil })
        #expect(log.closes.filter { $0.hasPrefix("client") } == ["client nil"])
        #expect((1...2).contains(log.closes.filter { $0.hasPrefix("server") }.count))
        #expect(log.closes.allSatisfy { $0.hasSuffix(" nil") })
        #expect(log.pendingConnect?.name == "ECANCELED")
    }
}
