import FlowlineUV
import Foundation

/// A libuv loop on a dedicated thread that owns one `Engine`, entered from other threads only through a `Wakeup`.
///
/// Jobs posted here run on the loop thread, in order, with the engine. The engine is created on that thread and
/// never leaves it, so it needs no locks; this front door is `Sendable` because it holds only the job queue (a
/// `JobQueue`, which locks) and the `Wakeup` (whose `send()` is thread-safe).
final class LoopThread<Engine: AnyObject>: Sendable {
    typealias Job = @Sendable (Engine) -> Void

    private let mailbox: JobQueue<Job>
    private let wakeup: Wakeup

    private init(mailbox: JobQueue<Job>, wakeup: Wakeup) {
        self.mailbox = mailbox
        self.wakeup = wakeup
    }

    /// Starts the thread, makes the loop and the engine on it, and returns once the engine exists.
    ///
    /// `makeEngine` runs on the loop thread with the loop and this thread's front door (for jobs the engine posts to
    /// itself from other threads). The thread ends when the engine has called `close()` and its handles are closed.
    static func start(
        name: String,
        _ makeEngine: @escaping @Sendable (EventLoop, LoopThread<Engine>) -> Engine
    ) async throws(FlowlineError) -> LoopThread<Engine> {
        let result: Result<LoopThread<Engine>, FlowlineError> = await withCheckedContinuation { continuation in
            let thread = Thread {
                let loop: EventLoop
                let front: LoopThread<Engine>
                // The engine is set before the loop runs, so before the wakeup's callback can fire.
                let slot = EngineSlot<Engine>()
                do {
                    loop = try EventLoop()
                    let mailbox = JobQueue<Job>()
                    let wakeup = try Wakeup(loop: loop) {
                        guard let engine = slot.engine else { return }
                        // Jobs these jobs post (an inline handler's outcome) run in this turn too.
                        mailbox.drain { $0(engine) }
                    }
                    front = LoopThread(mailbox: mailbox, wakeup: wakeup)
                } catch {
                    continuation.resume(returning: .failure(.connection("cannot start the event loop: \(error)")))
                    return
                }
                slot.engine = makeEngine(loop, front)
                continuation.resume(returning: .success(front))
                loop.run()
                slot.engine = nil
            }
            thread.name = name
            thread.start()
        }
        return try result.get()
    }

    /// Runs `job` on the loop thread with the engine. Returns false (and drops the job) once the loop is closed,
    /// so the caller can fail whatever the job would have answered.
    @discardableResult
    func post(_ job: @escaping Job) -> Bool {
        guard mailbox.put(job) else { return false }
        wakeup.send()
        return true
    }

    /// Loop thread only: refuses later jobs, returns the ones still queued (to run against the closing engine),
    /// and closes the wakeup, so that the loop ends once the engine's own handles are closed.
    func close() -> [Job] {
        let left = mailbox.close()
        wakeup.close()
        return left
    }
}

/// Holds the engine for the wakeup callback. Touched only on the loop thread.
private final class EngineSlot<Engine: AnyObject> {
    var engine: Engine?
}
