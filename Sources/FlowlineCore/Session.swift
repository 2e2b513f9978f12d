/// A connected worker, as `workers.list` shows it.
public struct WorkerInfo: Hashable, Sendable {
    public var id: WorkerID
    public var name: String
    public var queues: [String]
    public var concurrency: Int
    /// The only handlers it runs (`hello`'s `handlers`), or nil for any.
    public var handlers: Set<String>?
    /// Open leases.
    public var running: Set<LeaseID> = []
    public var connectedAt: Instant

    /// True when the worker runs `handler`.
    func offers(_ handler: String) -> Bool { handlers?.contains(handler) ?? true }

    public var hasCredit: Bool { running.count < concurrency }
}

/// The workers of one queue, in the order they connected, and where the round-robin over them goes on.
struct QueueWorkers: Sendable {
    var list: [WorkerID] = []
    var cursor = 0
}

/// The part of the coordinator's state that lives only as long as the process: connections, leases'
/// owners and heartbeats, waiting requests. A restart begins it empty.
struct Session: Sendable {
    var workers: [WorkerID: WorkerInfo] = [:]
    /// Workers of each queue; one table for the list and its cursor, so a dispatch hashes the queue's name once.
    var queueWorkers: [String: QueueWorkers] = [:]
    var leaseOwner: [LeaseID: WorkerID] = [:]
    var heartbeatDue: [LeaseID: Instant] = [:]
    var waiters: [WorkflowID: [RequestID]] = [:]
    var waitTimeouts: [RequestID: WorkflowID] = [:]
    /// Queues of workers that got a slot back since the coordinator last dispatched, each once.
    var freedQueues: [String] = []
    /// `freedQueues` as a set, kept only once the list is long (`noteFreed`): a cancel that frees the leases of a
    /// thousand workers of a hundred queues each checked each name against the whole list, 33 s of quadratic work.
    var freedQueueSet: Set<String> = []
    /// Rate-limited keys with a `limitToken` timer armed.
    var tokenTimers: Set<String> = []

    /// Up to this many freed queues a look through the list costs less than hashing the name.
    static let freedQueueListLimit = 16

    /// Adds `queue` to `freedQueues` unless it is there.
    mutating func noteFreed(_ queue: String) {
        if freedQueues.count < Self.freedQueueListLimit {
            guard !freedQueues.contains(queue) else { return }
        } else {
            if freedQueueSet.isEmpty { freedQueueSet = Set(freedQueues) }
            guard freedQueueSet.insert(queue).inserted else { return }
        }
        freedQueues.append(queue)
    }

    /// Empties `freedQueues` (and its set), keeping the list's storage.
    mutating func clearFreed() {
        freedQueues.removeAll(keepingCapacity: true)
        if !freedQueueSet.isEmpty { freedQueueSet.removeAll() }
    }

    /// True when the queue at `qi` in `queueWorkers` has a connected worker.
    mutating func hasWorkers(at qi: Dictionary<String, QueueWorkers>.Index) -> Bool {
        Self.hasWorkers(&queueWorkers.values[qi])
    }

    private static func hasWorkers(_ queue: inout QueueWorkers) -> Bool { !queue.list.isEmpty }

    /// The handlers the worker at `wi` in `workers` is limited to, if any.
    mutating func handlers(at wi: Dictionary<WorkerID, WorkerInfo>.Index) -> Set<String>? {
        Self.handlers(&workers.values[wi])
    }

    private static func handlers(_ worker: inout WorkerInfo) -> Set<String>? { worker.handlers }

    /// The name of the worker at `wi` in `workers`.
    mutating func name(at wi: Dictionary<WorkerID, WorkerInfo>.Index) -> String { Self.name(&workers.values[wi]) }

    private static func name(_ worker: inout WorkerInfo) -> String { worker.name }

    /// The next worker with a free slot of the queue at `qi`, round-robin; with its position in `workers` (valid
    /// until a worker connects or goes) and its distance from the cursor, which moves past it only when
    /// `advance(_:past:)` says the worker got a run.
    /// `from` skips that many workers after the cursor (ones that could take nothing).
    mutating func nextWorker(
        at qi: Dictionary<String, QueueWorkers>.Index,
        from first: Int = 0
    ) -> (WorkerID, Dictionary<WorkerID, WorkerInfo>.Index, step: Int)? {
        let list = queueWorkers.values[qi].list
        let start = queueWorkers.values[qi].cursor
        guard first < list.count else { return nil }
        for step in first..<list.count {
            let candidate = list[(start + step) % list.count]
            if let wi = workers.index(forKey: candidate), Self.hasCredit(&workers.values[wi]) {
                return (candidate, wi, step)
            }
        }
        return nil
    }

    /// Moves the round-robin of the queue at `qi` past the worker `nextWorker(at:)` found `step` after the cursor.
    mutating func advance(_ qi: Dictionary<String, QueueWorkers>.Index, past step: Int) {
        Self.advance(&queueWorkers.values[qi], past: step)
    }

    private static func advance(_ queue: inout QueueWorkers, past step: Int) {
        queue.cursor = (queue.cursor + step + 1) % queue.list.count
    }

    /// Through `inout`: `Dictionary.Values` has no `_read`, so a plain read would copy the WorkerInfo (a retain and
    /// release of its name, queues and running set) to look at two counts.
    private static func hasCredit(_ worker: inout WorkerInfo) -> Bool { worker.hasCredit }

    /// Takes `lease` off the worker's running set; returns the worker's queues.
    private static func release(_ lease: LeaseID, from worker: inout WorkerInfo) -> [String] {
        worker.running.remove(lease)
        return worker.queues
    }

    /// Ends a lease's hold on its worker's slot; returns the worker if it is still connected.
    @discardableResult
    mutating func release(_ lease: LeaseID) -> WorkerID? {
        if !heartbeatDue.isEmpty { heartbeatDue[lease] = nil }
        guard let owner = leaseOwner.removeValue(forKey: lease), let wi = workers.index(forKey: owner) else {
            return nil
        }
        // In place: a copy of the whole WorkerInfo would share its `running` set, and the removal would then copy
        // that set (up to `concurrency` leases) once per completion. Each queue goes in once (dispatch would skip
        // the repeats): appending one string is cheaper than the generic append of a list.
        for queue in Self.release(lease, from: &workers.values[wi]) { noteFreed(queue) }
        return owner
    }
}
