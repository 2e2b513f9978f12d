public import Synchronization

/// Jobs handed to a loop thread from any thread, behind a lock, until the queue closes: the queue behind a
/// `Wakeup` (whoever puts a job sends the wakeup; the loop thread takes the jobs in its callback).
///
/// Its members are `@inlinable` so that a client module compiles them for its own `Job` type: called as generic
/// code across the module boundary, each call looked up the metadata of `[Job]` and of the locked state in the
/// runtime's caches, some 1,300 instructions a job for a worker's posts.
public final class JobQueue<Job: Sendable>: Sendable {
    @usableFromInline
    struct Jobs: ~Copyable {
        @usableFromInline var list: [Job] = []
        @usableFromInline var isClosed = false

        @inlinable init() {}
    }

    @usableFromInline let jobs = Mutex(Jobs())

    @inlinable public init() {}

    /// Queues `job`; false (and `job` not queued) once closed. Any thread.
    @inlinable
    public func put(_ job: Job) -> Bool {
        jobs.withLock { jobs in
            guard !jobs.isClosed else { return false }
            jobs.list.append(job)
            return true
        }
    }

    /// The jobs queued so far, in order, leaving none.
    @inlinable
    public func take() -> [Job] {
        jobs.withLock { jobs in
            defer { jobs.list = [] }
            return jobs.list
        }
    }

    /// Runs every queued job, and the jobs those queue, until none is left. Loop thread.
    @inlinable
    public func drain(_ run: (Job) -> Void) {
        var batch: [Job] = []
        exchange(&batch)
        while !batch.isEmpty {
            for job in batch { run(job) }
            // The emptied batch goes back as the queue's storage, so the next put does not allocate one (unless a
            // burst made it large).
            batch.removeAll(keepingCapacity: batch.capacity <= 1024)
            exchange(&batch)
        }
    }

    /// Swaps the queued jobs with `batch`.
    @inlinable
    func exchange(_ batch: inout [Job]) {
        jobs.withLock { jobs in swap(&jobs.list, &batch) }
    }

    /// Refuses later jobs and returns the ones still queued.
    @inlinable
    public func close() -> [Job] {
        jobs.withLock { jobs in
            jobs.isClosed = true
            defer { jobs.list = [] }
            return jobs.list
        }
    }
}
