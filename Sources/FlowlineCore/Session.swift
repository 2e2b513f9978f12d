/// A connected worker, as `workers.list` shows it.
public struct WorkerInfo: Hashable, Sendable {
    public var id: WorkerID
    public var name: String
    public var queues: [String]
    public var concurrency: Int
    /// Open leases.
    public var running: Set<LeaseID> = []
    public var connectedAt: Instant

    public var hasCredit: Bool { running.count < concurrency }
}

/// The part of the coordinator's state that lives only as long as the process: connections, leases'
/// owners and heartbeats, waiting requests. A restart begins it empty.
struct Session: Sendable {
    var workers: [WorkerID: WorkerInfo] = [:]
    /// Workers of each queue, in the order they connected.
    var queueWorkers: [String: [WorkerID]] = [:]
    /// Where the round-robin over each queue's workers goes on.
    var cursor: [String: Int] = [:]
    var leaseOwner: [LeaseID: WorkerID] = [:]
    var heartbeatDue: [LeaseID: Instant] = [:]
    var waiters: [WorkflowID: [RequestID]] = [:]
    var waitTimeouts: [RequestID: WorkflowID] = [:]
    /// Queues of workers that got a slot back since the coordinator last dispatched.
    var freedQueues: [String] = []

    /// The next worker of `queue` with a free slot, round-robin.
    mutating func nextWorker(for queue: String) -> WorkerID? {
        guard let list = queueWorkers[queue], !list.isEmpty else { return nil }
        let start = cursor[queue, default: 0]
        for step in 0..<list.count {
            let candidate = list[(start + step) % list.count]
            if workers[candidate]?.hasCredit == true {
                cursor[queue] = (start + step + 1) % list.count
                return candidate
            }
        }
        return nil
    }

    /// Ends a lease's hold on its worker's slot; returns the worker if it is still connected.
    @discardableResult
    mutating func release(_ lease: LeaseID) -> WorkerID? {
        heartbeatDue[lease] = nil
        guard let owner = leaseOwner.removeValue(forKey: lease) else { return nil }
        // Only the queues are read: a copy of the whole WorkerInfo would share its `running` set, and the removal
        // below would then copy that set (up to `concurrency` leases) once per completion.
        guard let queues = workers[owner]?.queues else { return nil }
        workers[owner]?.running.remove(lease)
        freedQueues.append(contentsOf: queues)
        return owner
    }
}
