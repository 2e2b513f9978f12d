import FlowlineUV
import Foundation
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(1)))
struct LoopExecutorTests {
    @Test func aPreferringTaskRunsOnTheLoopThreadAcrossSuspensions() async throws {
        // The loop runs on a thread of its own: blocking a test thread (one of the cooperative pool's two here)
        // could starve the detached task below when other tests block the other one.
        let seen: [Bool]? = await withCheckedContinuation { continuation in
            Thread {
                guard let loop = try? EventLoop(), let executor = try? LoopExecutor(loop: loop),
                    let stop = try? Wakeup(loop: loop, { [unowned loop] in loop.stop() }),
                    let guardTimer = try? Timer(loop: loop)
                else { return continuation.resume(returning: nil) }
                let loopThread = pthread_self()
                let onLoop = Mutex<[Bool]>([])
                Task(executorPreference: executor) {
                    onLoop.withLock { $0.append(pthread_equal(pthread_self(), loopThread) != 0) }
                    // Resumed by the global timer, then after a child task on the global executor: back here.
                    try? await Task.sleep(for: .milliseconds(20))
                    onLoop.withLock { $0.append(pthread_equal(pthread_self(), loopThread) != 0) }
                    let elsewhere = await Task.detached { pthread_equal(pthread_self(), loopThread) == 0 }.value
                    onLoop.withLock { $0.append(elsewhere && pthread_equal(pthread_self(), loopThread) != 0) }
                    stop.send()
                }
                guardTimer.unref()
                guardTimer.start(afterMilliseconds: 30_000) { [unowned loop] in loop.stop() }
                loop.run()
                guardTimer.close()
                executor.close()
                stop.close()
                loop.run()
                continuation.resume(returning: onLoop.withLock { $0 })
            }.start()
        }
        #expect(seen == [true, true, true])
    }

    @Test func jobsAfterCloseRunOnTheGlobalExecutor() async throws {
        let loop = try EventLoop()
        let executor = try LoopExecutor(loop: loop)
        executor.close()
        #expect(runBounded(loop))
        // No loop runs any more: the task must still finish.
        let value = await Task(executorPreference: executor) { 6 * 7 }.value
        #expect(value == 42)
    }
}
