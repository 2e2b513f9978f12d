/// What a checkpoint holds beside the workflows: the counters and the future bookkeeping.
public struct CheckpointGlobals: Hashable, Sendable {
    public var nextLease: UInt64
    public var submitted: UInt64
    public var completions: UInt64
    public var nextTicket: UInt64
    public var keyWaiters: [String: [KeyWaiter]]
    public var keptFutures: [String: KeptFuture]
    /// The resolution ids still remembered, by key (SPEC §8).
    public var resolutions: [String: [String: AppliedResolution]]
    /// The schedules, by id (with their journaled next fires and runs).
    public var schedules: [Schedule] = []
    /// Limits by key (`limit.set`).
    public var limits: [String: Limit] = [:]
    /// Queues paused by `queue.pause`.
    public var pausedQueues: Set<String> = []

    public init(
        nextLease: UInt64,
        submitted: UInt64,
        completions: UInt64,
        nextTicket: UInt64,
        keyWaiters: [String: [KeyWaiter]],
        keptFutures: [String: KeptFuture],
        resolutions: [String: [String: AppliedResolution]] = [:],
        schedules: [Schedule] = []
    ) {
        self.nextLease = nextLease
        self.submitted = submitted
        self.completions = completions
        self.nextTicket = nextTicket
        self.keyWaiters = keyWaiters
        self.keptFutures = keptFutures
        self.resolutions = resolutions
        self.schedules = schedules
    }
}

extension KeyWaiter {
    public init(workflow: WorkflowID, index: Int, awaitNumber: Int) {
        self.init(task: TaskRef(workflow: workflow, index: index), awaitNumber: awaitNumber)
    }
}

extension KeptFuture {
    public init(_ outcome: FutureOutcome, at: Instant) { self.init(outcome: outcome, at: at) }
}

extension CoordinatorState {
    /// The counters and future bookkeeping, for a checkpoint.
    public var globals: CheckpointGlobals {
        var globals = CheckpointGlobals(
            nextLease: nextLease,
            submitted: submitted,
            completions: completions,
            nextTicket: nextTicket,
            keyWaiters: keyWaiters,
            keptFutures: keptFutures,
            resolutions: resolutions,
            schedules: scheduleList
        )
        globals.limits = limits
        globals.pausedQueues = pausedQueues
        return globals
    }

    /// Rebuilds the state a checkpoint describes: its globals and every workflow it kept. Indexes, leases and
    /// queues are derived from the workflows, so they cannot disagree with them.
    public init(globals: CheckpointGlobals, workflows: [Workflow]) {
        self.init()
        nextLease = globals.nextLease
        submitted = globals.submitted
        completions = globals.completions
        nextTicket = globals.nextTicket
        keyWaiters = globals.keyWaiters
        keptFutures = globals.keptFutures
        resolutions = globals.resolutions
        resolutionCount = resolutions.values.reduce(0) { $0 + $1.count }
        for schedule in globals.schedules { schedules[schedule.spec.id] = schedule }
        limits = globals.limits
        pausedQueues = globals.pausedQueues
        self.workflows.reserveCapacity(workflows.count)
        order.reserveCapacity(workflows.count)
        var queued: [ReadyEntry] = []
        var queueOf: [UInt64: (String, LaneKey)] = [:]
        // Sorting positions moves 8 bytes per swap; sorting the workflows moved (and retained) whole structs.
        for index in workflows.indices.sorted(by: { workflows[$0].number < workflows[$1].number }) {
            var workflow = workflows[index]
            workflow.reindex()
            for (position, task) in workflow.tasks.enumerated() {
                if let lease = task.lease {
                    leases[lease] = TaskRef(workflow: workflow.id, index: position)
                    // The running counts follow from the open leases, as the fold keeps them.
                    for key in task.spec.limits { limitRunning[key, default: 0] += 1 }
                }
                if task.isQueued && !workflow.paused {
                    queued.append(
                        ReadyEntry(
                            priority: task.spec.priority,
                            ticket: task.queueTicket,
                            workflow: workflow.id,
                            task: position
                        )
                    )
                    queueOf[task.queueTicket] = (task.spec.queue, task.laneKey)
                }
            }
            order.append(workflow.id)
            insert(workflow, as: workflow.id)
        }
        for entry in queued.sorted(by: { $0.ticket < $1.ticket }) {
            guard let (queue, lane) = queueOf[entry.ticket] else { continue }
            queues[queue, default: QueueLanes()].push(entry, lane)
        }
    }
}

extension Coordinator {
    /// A coordinator that starts from a checkpoint; apply the events after it, then `resume`.
    public init(state: CoordinatorState, futureRetention: Duration) {
        self.init(futureRetention: futureRetention)
        self.state = state
    }
}
