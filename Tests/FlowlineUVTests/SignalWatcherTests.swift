import FlowlineUV
import Glibc
import Testing

@Suite(.timeLimit(.minutes(1)))
struct SignalWatcherTests {
    @Test("SIGUSR1 sent to ourselves reaches the loop", arguments: ["raise", "kill"])
    func receivesSIGUSR1(via sender: String) throws {
        let loop = try EventLoop()
        var received = 0
        let watcher = try SignalWatcher(loop: loop, signal: SIGUSR1) { [unowned loop] in
            received += 1
            loop.stop()
        }
        // Swift Testing runs tests on Dispatch worker threads, which block signals; a raised signal would stay
        // pending on this thread. The daemon's loop thread is the main thread, where nothing is blocked.
        var unblock = sigset_t()
        var saved = sigset_t()
        unsafe sigemptyset(&unblock)
        unsafe sigaddset(&unblock, SIGUSR1)
        #expect(unsafe pthread_sigmask(SIG_UNBLOCK, &unblock, &saved) == 0)
        defer { unsafe pthread_sigmask(SIG_SETMASK, &saved, nil) }
        let rc = sender == "raise" ? raise(SIGUSR1) : kill(getpid(), SIGUSR1)
        #expect(rc == 0)
        #expect(runBounded(loop))
        #expect(received >= 1)
        watcher.close()
    }

    @Test func unrefLetsRunReturn() throws {
        let loop = try EventLoop()
        let watcher = try SignalWatcher(loop: loop, signal: SIGUSR2) {}
        watcher.unref()
        #expect(runBounded(loop, seconds: 2))
        watcher.close()
    }

    @Test func anInvalidSignalThrows() throws {
        let loop = try EventLoop()
        let error = #expect(throws: UVError.self) { try SignalWatcher(loop: loop, signal: 0) {} }
        #expect(error?.call == "uv_signal_start")
        #expect(error?.name == "EINVAL")
    }
}
