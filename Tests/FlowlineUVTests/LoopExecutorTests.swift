import FlowlineUV
import Foundation
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(1)))
struct LoopExecutorTests {
    @Test func aPreferringTaskRunsOnTheLoopThreadAcrossSuspensions() throws {
        let loop = try EventLoop()
        let executor = try LoopExecutor(loop: loop)
        let stop = try Wakeup(loop: loop) { [unowned loop] in loop.stop() }
        let loopThread = pthread_self()
        let onLoop = Mutex<[Bool]>([])
        Task(executorPreference: executor) {
            onLoop.withLock { $0.append(pthread_equal(pthread_self(), loopThread) != 0) }
            // Resumed by the global timer, then after a child task on the global executor: back here each time.
            try? await Task.sleep(for: .milliseconds(20))
            onLoop.withLock { $0.append(pthread_equal(pthread_self(), loopThread) != 0) }
            let elsewhere = await Task.detached { pthread_equal(pthread_self(), loopThread) == 0 }.value
            onLoop.withLock { $0.append(elsewhere && pthread_equal(pthread_self(), loopThread) != 0) }
            stop.send()
        }
        #expect(runBounded(loop))
        #expect(onLoop.withLock { $0 } == [true, true, true])
        executor.close()
        stop.close()
        #expect(runBounded(loop))
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
