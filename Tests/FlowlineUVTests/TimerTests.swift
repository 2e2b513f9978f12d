import FlowlineUV
import Testing

@Suite(.timeLimit(.minutes(1)))
struct TimerTests {
    @Test func earlierTimerFiresFirst() throws {
        let loop = try EventLoop()
        let started = loop.now
        var fired: [UInt64] = []
        let late = try Timer(loop: loop)
        let early = try Timer(loop: loop)
        late.start(afterMilliseconds: 30) { fired.append(30) }
        early.start(afterMilliseconds: 10) { fired.append(10) }
        #expect(runBounded(loop))
        #expect(fired == [10, 30])
        #expect(loop.now - started >= 30)
        late.close()
        early.close()
    }

    @Test func repeatingTimerStopsWhenAsked() throws {
        let loop = try EventLoop()
        var ticks = 0
        let timer = try Timer(loop: loop)
        timer.start(afterMilliseconds: 1, repeatMilliseconds: 2) {
            ticks += 1
            if ticks == 3 { timer.stop() }
        }
        // A stopped timer is inactive, so run() returns once this later one-shot has fired.
        let later = try Timer(loop: loop)
        later.start(afterMilliseconds: 40) {}
        #expect(runBounded(loop))
        #expect(ticks == 3)
        timer.close()
        later.close()
    }

    @Test func closedTimerIsReleasedAndUnrefLetsRunReturn() throws {
        let loop = try EventLoop()
        weak var weakTimer: Timer?
        var fired = false
        do {
            let timer = try Timer(loop: loop)
            weakTimer = timer
            timer.unref()
            timer.start(afterMilliseconds: 60_000) { fired = true }
        }
        // Dropped by the test, the timer is kept by its open handle, but unref lets run() return at once.
        #expect(weakTimer != nil)
        #expect(runBounded(loop))
        weakTimer?.close()
        loop.runOnce(wait: false)
        #expect(weakTimer == nil)
        #expect(!fired)
    }

    @Test func updateTimeAdvancesNow() throws {
        let loop = try EventLoop()
        let before = loop.now
        let deadline = ContinuousClock.now + .milliseconds(15)
        while ContinuousClock.now < deadline {}
        #expect(loop.now == before)
        loop.updateTime()
        #expect(loop.now >= before + 10)
    }
}
