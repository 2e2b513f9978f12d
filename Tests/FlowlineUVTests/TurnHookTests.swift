import FlowlineUV
import Testing

@Suite(.timeLimit(.minutes(1)))
struct TurnHookTests {
    @Test func runsOncePerTurn() throws {
        let loop = try EventLoop()
        var turns = 0
        let hook = try TurnHook(loop: loop) { turns += 1 }
        for _ in 0..<3 { #expect(loop.runOnce(wait: false)) }
        #expect(turns == 3)
        hook.close()
        #expect(!loop.runOnce(wait: false))
        #expect(turns == 3)
    }

    @Test func runsBeforeTheLoopBlocksAfterEachTimer() throws {
        let loop = try EventLoop()
        var log: [String] = []
        let hook = try TurnHook(loop: loop) { log.append("hook") }
        hook.unref()
        let timer = try Timer(loop: loop)
        var ticks = 0
        timer.start(afterMilliseconds: 5, repeatMilliseconds: 5) {
            ticks += 1
            log.append("tick")
            if ticks == 3 { timer.close() }
        }
        #expect(runBounded(loop))
        // Every tick is followed by a hook in the same turn, before the loop blocks again.
        for (index, entry) in log.enumerated() where entry == "tick" {
            #expect(log.indices.contains(index + 1) && log[index + 1] == "hook")
        }
        #expect(log.filter { $0 == "tick" }.count == 3)
        hook.close()
    }
}
