import FlowlineUV
import Glibc
import Testing

/// A write to a peer that has closed must fail that connection, not kill the process with SIGPIPE (issue #18):
/// every process with a loop (daemon, client library, admin tool) ignores it.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct BrokenPipeTests {
    private func disposition() -> sighandler_t? {
        var current = sigaction()
        sigaction(SIGPIPE, nil, &current)
        return current.__sigaction_handler.sa_handler
    }

    @Test func aLoopIgnoresSIGPIPEWhenItsActionIsTheDefault() throws {
        // The test runner may ignore it already; start from the default action, as a program run from a shell does.
        signal(SIGPIPE, SIG_DFL)
        defer { signal(SIGPIPE, SIG_IGN) }
        #expect(disposition() == nil)
        _ = try EventLoop()
        #expect(disposition().map { unsafeBitCast($0, to: Int.self) } == unsafeBitCast(SIG_IGN, to: Int.self))
    }
}
