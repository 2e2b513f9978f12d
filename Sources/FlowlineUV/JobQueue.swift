internal import Synchronization

/// Jobs handed to a loop thread from any thread, behind a lock, until the queue closes: the queue behind a
/// `Wakeup` (whoever puts a job sends the wakeup; the loop thread takes the jobs in its callback).
public final class JobQueue<Job: Sendable>: Sendable {
    private struct Jobs: ~Copyable {
        var list: [Job] = []
        var isClosed = false
    }

    private let jobs = Mutex(Jobs())

    public init() {}

    /// Queues `job`; false (and `job` not queued) once closed. Any thread.
    public func put(_ job: Job) -> Bool {
        jobs.withLock { jobs in
            guard !jobs.isClosed else { return false }
            jobs.list.append(job)
            return true
        }
    }

    /// The jobs queued so far, in order, leaving none.
    public func take() -> [Job] {
        jobs.withLock { jobs in
            defer { jobs.list = [] }
            return jobs.list
        }
    }

    /// Runs every queued job, and the jobs those queue, until none is left. Loop thread.
    public func drain(_ run: (Job) -> Void) {
        var batch = take()
        while !batch.isEmpty {
            for job in batch { run(job) }
            batch = take()
        }
    }

    /// Refuses later jobs and returns the ones still queued.
    public func close() -> [Job] {
        jobs.withLock { jobs in
            jobs.isClosed = true
            defer { jobs.list = [] }
            return jobs.list
        }
    }
}
