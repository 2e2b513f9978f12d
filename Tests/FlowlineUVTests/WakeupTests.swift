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
}
