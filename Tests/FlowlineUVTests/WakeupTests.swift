import FlowlineUV
import Foundation
import Testing

@Suite(.timeLimit(.minutes(1)))
struct WakeupTests {
    @Test func sendFromAnotherThreadWakesTheLoop() throws {
        let loop = try EventLoop()
        var wakes = 0
        var wakeupThreadIsLoopThread = false
        let loopThread = Thread.current
        let wakeup = try Wakeup(loop: loop) { [unowned loop] in
            wakes += 1
            wakeupThreadIsLoopThread = Thread.current == loopThread
            loop.stop()
        }
        let sender = Thread {
            Thread.sleep(forTimeInterval: 0.05)
            wakeup.send()
        }
        sender.start()
        #expect(runBounded(loop))
        #expect(wakes == 1)
        #expect(wakeupThreadIsLoopThread)
        wakeup.close()
    }

    @Test func sendAfterCloseDoesNothing() throws {
        let loop = try EventLoop()
        var wakes = 0
        let wakeup = try Wakeup(loop: loop) { wakes += 1 }
        wakeup.close()
        #expect(!loop.runOnce(wait: false))
        let done = DispatchSemaphore(value: 0)
        Thread {
            wakeup.send()
            done.signal()
        }.start()
        done.wait()
        #expect(!loop.runOnce(wait: false))
        #expect(wakes == 0)
    }

    @Test func unrefLetsRunReturn() throws {
        let loop = try EventLoop()
        let wakeup = try Wakeup(loop: loop) {}
        wakeup.unref()
        #expect(runBounded(loop, seconds: 2))
        wakeup.close()
    }

    @Test func sendsFromTheLoopThreadRunTheCallbackOnTheNextTurnCoalesced() throws {
        let loop = try EventLoop()
        var wakes = 0
        var ranInsideSend = false
        var wakeup: Wakeup?
        wakeup = try Wakeup(loop: loop) {
            wakes += 1
            // A send from the callback itself comes back on a later turn, not re-entrantly.
            if wakes == 1 {
                wakeup?.send()
                ranInsideSend = wakes != 1
            }
        }
        let timer = try Timer(loop: loop)
        timer.start(afterMilliseconds: 1) {
            wakeup?.send()
            wakeup?.send()
            ranInsideSend = ranInsideSend || wakes != 0
        }
        let stopper = try Timer(loop: loop)
        stopper.start(afterMilliseconds: 100) { [unowned loop] in loop.stop() }
        #expect(runBounded(loop))
        // One for the timer's two sends, one for the callback's own.
        #expect(wakes == 2)
        #expect(!ranInsideSend)
        timer.close()
        stopper.close()
        wakeup?.close()
    }

    @Test func aSendOnTheLoopThreadBeforeRunWakesTheLoopWhenItRuns() throws {
        let loop = try EventLoop()
        var wakes = 0
        let wakeup = try Wakeup(loop: loop) { [unowned loop] in
            wakes += 1
            loop.stop()
        }
        wakeup.send()
        #expect(runBounded(loop))
        #expect(wakes == 1)
        wakeup.close()
    }

    @Test func closingWithALocalSendPendingDropsIt() throws {
        let loop = try EventLoop()
        var wakes = 0
        let wakeup = try Wakeup(loop: loop) { wakes += 1 }
        let timer = try Timer(loop: loop)
        timer.start(afterMilliseconds: 1) {
            wakeup.send()
            wakeup.close()
            timer.close()
        }
        #expect(runBounded(loop, seconds: 2))
        #expect(wakes == 0)
    }
}
