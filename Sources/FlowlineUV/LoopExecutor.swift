/// Runs Swift tasks' jobs on a loop's thread: a `TaskExecutor` (SE-0417) for `Task(executorPreference:)`.
///
/// Work that mostly waits on the loop's own I/O, run here, saves two thread hops per job (to the global executor and
/// back), at the price of holding the loop while a job computes. Jobs enqueued after `close()` go to the global
/// concurrent executor, so no task is left suspended for ever.
///
/// `@unchecked Sendable` invariant: `enqueue` (any thread) touches only the `JobQueue`, which locks, and the
/// `Wakeup`, whose `send()` is thread-safe; running and closing happen on the loop thread.
@safe public final class LoopExecutor: TaskExecutor, @unchecked Sendable {
    /// Lets the wakeup's callback reach the executor, which does not exist yet when the wakeup is made.
    private final class Slot {
        weak var executor: LoopExecutor?
    }

    private let queue = JobQueue<UnownedJob>()
    private let wakeup: Wakeup

    /// An executor on `loop`; loop thread only. It does not keep `EventLoop.run()` running by itself.
    public init(loop: EventLoop) throws(UVError) {
        let slot = Slot()
        wakeup = try Wakeup(loop: loop) { slot.executor?.runQueued() }
        wakeup.unref()
        slot.executor = self
    }

    /// Queues `job` for the loop thread; any thread.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        if queue.put(job) {
            wakeup.send()
        } else {
            globalConcurrentExecutor.enqueue(ExecutorJob(job))
        }
    }

    /// Runs the queued jobs, and the jobs they enqueue, until none is left. Loop thread only.
    private func runQueued() {
        let executor = unsafe asUnownedTaskExecutor()
        queue.drain { unsafe $0.runSynchronously(on: executor) }
    }

    /// Runs what is queued, hands later jobs to the global executor, and closes the wakeup. Loop thread only.
    public func close() {
        runQueued()
        for job in queue.close() { globalConcurrentExecutor.enqueue(ExecutorJob(job)) }
        wakeup.close()
    }
}
