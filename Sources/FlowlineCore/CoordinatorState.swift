/// Where a task lives: its workflow and its position in the workflow's task list.
public struct TaskRef: Hashable, Sendable {
    public var workflow: WorkflowID
    public var index: Int
    public init(workflow: WorkflowID, index: Int) {
        self.workflow = workflow
        self.index = index
    }
}

/// A task waiting on a key, in its `awaitNumber`-th await.
public struct KeyWaiter: Hashable, Sendable {
    public var task: TaskRef
    public var awaitNumber: Int
}

/// A resolution kept for a later await.
public struct KeptFuture: Hashable, Sendable {
    public var outcome: FutureOutcome
    public var at: Instant
}

/// A resolution applied under a `resolution_id` (SPEC §8): a re-send of it answers `matched` again and changes
/// nothing, until `at` is `--future-retention` behind.
public struct AppliedResolution: Hashable, Sendable {
    public var matched: Int
    public var at: Instant
    public init(matched: Int, at: Instant) {
        self.matched = matched
        self.at = at
    }
}

/// A workflow's position in `CoordinatorState.workflows`: valid until a workflow is added or removed.
typealias WorkflowIndex = Dictionary<WorkflowID, Workflow>.Index

/// The durable state: exactly what replaying the journal rebuilds.
public struct CoordinatorState: Sendable {
    public internal(set) var workflows: [WorkflowID: Workflow] = [:]
    /// Workflow ids in the order they were submitted.
    public internal(set) var order: [WorkflowID] = []
    /// Every open lease and the task it is for.
    public internal(set) var leases: [LeaseID: TaskRef] = [:]
    /// The number the next lease gets.
    public internal(set) var nextLease: UInt64 = 1
    /// How many workflows were ever submitted; generated ids count with it.
    public internal(set) var submitted: UInt64 = 0
    /// Tasks waiting on each key future, with the await they wait in (stale entries are skipped).
    public internal(set) var keyWaiters: [String: [KeyWaiter]] = [:]
    /// Resolutions that arrived before any await of their key.
    public internal(set) var keptFutures: [String: KeptFuture] = [:]
    /// The resolution ids applied to each key (the outer key), until their retention passes.
    public internal(set) var resolutions: [String: [String: AppliedResolution]] = [:]
    /// How many ids `resolutions` holds in all (derived: `setResolution` counts them as they come and go).
    public internal(set) var resolutionCount = 0
    /// Counts completions, so reverts can run in reverse order of completion.
    public internal(set) var completions: UInt64 = 0
    /// The schedules, by id.
    public internal(set) var schedules: [String: Schedule] = [:]
    /// Limits by key (`limit.set`).
    public internal(set) var limits: [String: Limit] = [:]
    /// Open leases of tasks under each key, whether or not the key has a limit: derived from `leases`.
    public internal(set) var limitRunning: [String: Int] = [:]
    /// The rate-limited keys' buckets. Folded from dispatches, so replaying the journal rebuilds them; a checkpoint
    /// does not keep them, and a bucket restored from one starts full.
    var buckets: [String: TokenBucket] = [:]
    /// Queues paused by `queue.pause`.
    public internal(set) var pausedQueues: Set<String> = []
    /// Set when a run under a limit key ended, or a limit changed: tasks of any queue may now go.
    var limitsFreed = false
    var queues: [String: QueueLanes] = [:]
    var nextTicket: UInt64 = 1
    /// Queues that got new entries since the coordinator last looked; not part of the state's identity.
    var touchedQueues: [String] = []
    /// True while the journal is replayed: queues are left to `rebuildQueues`.
    var isReplaying = false
    /// How many workflows are in each state, and tasks (of all workflows): derived from `workflows`, and kept up by
    /// the accessors below, through which every change of a workflow or a task goes. Not part of the state's
    /// identity, nor of a checkpoint.
    public private(set) var workflowCounts = StateCounts<WorkflowState>()
    public private(set) var taskCounts = StateCounts<TaskState>()

    public init() {}

    /// The resolution `id` applied to `key`, if it is still remembered.
    public func resolution(_ id: String, of key: String) -> AppliedResolution? { resolutions[key]?[id] }

    /// Remembers (or, with nil, forgets) the resolution `id` of `key`, keeping `resolutionCount`.
    mutating func setResolution(_ id: String, of key: String, to applied: AppliedResolution?) {
        if let applied {
            if resolutions[key, default: [:]].updateValue(applied, forKey: id) == nil { resolutionCount += 1 }
        } else if resolutions[key]?.removeValue(forKey: id) != nil {
            resolutionCount -= 1
            if resolutions[key]?.isEmpty == true { resolutions[key] = nil }
        }
    }

    /// The task at `ref`, if it is still there: a ref may outlive its workflow, compacted and then submitted
    /// again under the same id with fewer tasks.
    public func task(_ ref: TaskRef) -> TaskRecord? {
        guard let tasks = workflows[ref.workflow]?.tasks, tasks.indices.contains(ref.index) else { return nil }
        return tasks[ref.index]
    }

    /// Reads or changes the workflow at `wi` in place: `Dictionary.Values` has a `_modify` but no `_read`, so a plain
    /// `workflows.values[wi].state` copies the whole workflow (a retain and release per field) to read one field.
    /// Keeps the counts: `body` may change the workflow's state and append tasks, but must change an existing task's
    /// state only through `withTask` or `updateTask` (tasks are never removed from a workflow).
    mutating func withWorkflow<R>(_ wi: WorkflowIndex, _ body: (inout Workflow) -> R) -> R {
        Self.withCounted(&workflows.values[wi], &workflowCounts, &taskCounts, body)
    }

    /// Through `inout`, so that nothing is copied to compare the state and task count before and after. Inlined,
    /// as `withWorkflow` was before it counted: it runs several times per event.
    @inline(__always)
    private static func withCounted<R>(
        _ workflow: inout Workflow,
        _ workflowCounts: inout StateCounts<WorkflowState>,
        _ taskCounts: inout StateCounts<TaskState>,
        _ body: (inout Workflow) -> R
    ) -> R {
        let state = workflow.state
        let count = workflow.tasks.count
        let result = body(&workflow)
        workflowCounts.move(from: state, to: workflow.state)
        assert(workflow.tasks.count >= count, "tasks are never removed from a workflow")
        for position in count..<workflow.tasks.count { taskCounts.add(workflow.tasks[position].state) }
        return result
    }

    /// Reads or changes the task at `position` of the workflow at `wi` in place, if there is one (see `task(_:)`):
    /// a copy of a task record is over 500 bytes and a retain per field.
    mutating func withTask<R>(at wi: WorkflowIndex, _ position: Int, _ body: (inout TaskRecord) -> R) -> R? {
        guard Self.hasTask(&workflows.values[wi], position) else { return nil }
        return updateTask(wi, position, body)
    }

    private static func hasTask(_ workflow: inout Workflow, _ position: Int) -> Bool {
        workflow.tasks.indices.contains(position)
    }

    /// Reads or changes the task at `position` (which must be there) of the workflow at `wi` in place, keeping the
    /// task counts: the one way to change an existing task's state.
    mutating func updateTask<R>(_ wi: WorkflowIndex, _ position: Int, _ body: (inout TaskRecord) -> R) -> R {
        Self.withCounted(&workflows.values[wi].tasks[position], &taskCounts, body)
    }

    @inline(__always)
    private static func withCounted<R>(
        _ task: inout TaskRecord,
        _ taskCounts: inout StateCounts<TaskState>,
        _ body: (inout TaskRecord) -> R
    ) -> R {
        let state = task.state
        let result = body(&task)
        taskCounts.move(from: state, to: task.state)
        return result
    }

    /// Adds a workflow that `workflows` does not hold, counting it and its tasks.
    mutating func insert(_ workflow: consuming Workflow, as id: WorkflowID) {
        workflowCounts.add(workflow.state)
        for position in workflow.tasks.indices { taskCounts.add(workflow.tasks[position].state) }
        workflows[id] = consume workflow
    }

    /// `insert`, unless `workflows` holds `id` already (then nothing changes): true if the workflow went in. Hashes
    /// the id once when it goes in (`updateValue`); a workflow it displaced is put back.
    mutating func insertIfAbsent(_ workflow: consuming Workflow, as id: WorkflowID) -> Bool {
        workflowCounts.add(workflow.state)
        for position in workflow.tasks.indices { taskCounts.add(workflow.tasks[position].state) }
        guard let displaced = workflows.updateValue(workflow, forKey: id) else { return true }
        if let refused = workflows.updateValue(displaced, forKey: id) {
            workflowCounts.add(refused.state, -1)
            for position in refused.tasks.indices { taskCounts.add(refused.tasks[position].state, -1) }
        }
        return false
    }

    /// Removes the workflow `id`, if it is there, uncounting it and its tasks.
    mutating func remove(_ id: WorkflowID) {
        guard let workflow = workflows.removeValue(forKey: id) else { return }
        workflowCounts.add(workflow.state, -1)
        for position in workflow.tasks.indices { taskCounts.add(workflow.tasks[position].state, -1) }
    }

    /// True when the queue at `qi` holds entries (some may be stale).
    mutating func hasEntries(at qi: Dictionary<String, QueueLanes>.Index) -> Bool {
        Self.hasEntries(&queues.values[qi])
    }

    /// Through `inout`, so that the queue's entries are not retained and released to look at their count.
    private static func hasEntries(_ queue: inout QueueLanes) -> Bool { !queue.isEmpty }

    /// Drops stale entries (and those of paused workflows, which `workflow.resume` queues again) from the heads of
    /// the queue at `qi`, and returns the task that runs next among the lanes `eligible` accepts, with its workflow's
    /// position in `workflows` (valid until a workflow is added or removed) and its lane.
    mutating func nextReady(
        at qi: Dictionary<String, QueueLanes>.Index,
        where eligible: (LaneKey) -> Bool
    ) -> (TaskRef, WorkflowIndex, lane: Int)? {
        while let lane = queues.values[qi].best(where: eligible), let entry = queues.values[qi].head(of: lane) {
            if let wi = workflows.index(forKey: entry.workflow), withWorkflow(wi, { Self.holds(&$0, entry) }) {
                return (TaskRef(workflow: entry.workflow, index: entry.task), wi, lane)
            }
            queues.values[qi].pop(lane, dispatched: false)
        }
        return nil
    }

    /// Drops the head of `lane` of the queue at `qi`, which was dispatched.
    mutating func popReady(at qi: Dictionary<String, QueueLanes>.Index, lane: Int) {
        queues.values[qi].pop(lane, dispatched: true)
    }

    /// True when `entry` is the valid queue entry of a task of `workflow` (its workflow's), and the workflow is
    /// not paused.
    private static func holds(_ workflow: inout Workflow, _ entry: ReadyEntry) -> Bool {
        !workflow.paused && workflow.tasks.indices.contains(entry.task) && workflow.tasks[entry.task].isQueued
            && workflow.tasks[entry.task].queueTicket == entry.ticket
    }

    func isCurrent(_ entry: ReadyEntry) -> Bool {
        guard let workflow = workflows[entry.workflow], !workflow.paused,
            let task = task(TaskRef(workflow: entry.workflow, index: entry.task))
        else { return false }
        return task.isQueued && task.queueTicket == entry.ticket
    }

    /// The valid queue entries, in run order: what two equal states must agree on. (A resumed workflow's entries
    /// may be queued twice, once from before the pause; the second to come up is stale by then.)
    func liveEntries(of queue: String) -> [ReadyEntry] {
        Set((queues[queue]?.entries ?? []).filter(isCurrent)).sorted { $0.runsBefore($1) }
    }

    /// The workflows `pick` chooses, in submission order (`order`'s: `number` counts submissions). Reads each
    /// workflow in place: iterating `workflows` would copy every one of them (a retain and release per field), and
    /// walking `order` would hash every id again.
    mutating func workflows(where pick: (inout Workflow) -> Bool) -> [Workflow] {
        var picked: [Workflow] = []
        var i = workflows.startIndex
        while i != workflows.endIndex {
            // `values[i]` through `_modify`: `Dictionary.Values` has no `_read`, so a plain read would copy.
            if withWorkflow(i, pick) { picked.append(workflows.values[i]) }
            workflows.formIndex(after: &i)
        }
        return picked.sorted { $0.number < $1.number }
    }

    /// Rebuilds every queue from the tasks' states, in ticket order (after replay).
    mutating func rebuildQueues() {
        var entries: [(queue: String, lane: LaneKey, entry: ReadyEntry)] = []
        for workflow in workflows(where: { (!$0.state.isTerminal || $0.state == .reverting) && !$0.paused }) {
            let id = workflow.id
            for (position, task) in workflow.tasks.enumerated() where task.isQueued {
                entries.append(
                    (
                        task.spec.queue, task.laneKey,
                        ReadyEntry(priority: task.spec.priority, ticket: task.queueTicket, workflow: id, task: position)
                    )
                )
            }
        }
        var rebuilt: [String: QueueLanes] = [:]
        for (queue, lane, entry) in entries.sorted(by: { $0.entry.ticket < $1.entry.ticket }) {
            rebuilt[queue, default: QueueLanes()].push(entry, lane)
        }
        queues = rebuilt
        touchedQueues = rebuilt.keys.sorted()
    }

    /// Queues again the queued tasks of the workflow at `wi` (its entries were dropped while it was paused).
    mutating func requeue(_ wi: WorkflowIndex) {
        guard !isReplaying else { return }
        let id = workflows.keys[wi]
        let queued = withWorkflow(wi) { workflow in
            workflow.tasks.indices.filter { workflow.tasks[$0].isQueued }.map { position in
                let task = workflow.tasks[position]
                return (
                    task.spec.queue, task.laneKey,
                    ReadyEntry(priority: task.spec.priority, ticket: task.queueTicket, workflow: id, task: position)
                )
            }
        }
        for (queue, lane, entry) in queued {
            queues[queue, default: QueueLanes()].push(entry, lane)
            if touchedQueues.last != queue { touchedQueues.append(queue) }
        }
    }
}

extension CoordinatorState: Equatable {
    public static func == (a: CoordinatorState, b: CoordinatorState) -> Bool {
        guard a.workflows == b.workflows, a.order == b.order, a.leases == b.leases, a.nextLease == b.nextLease,
            a.submitted == b.submitted, a.nextTicket == b.nextTicket, a.keyWaiters == b.keyWaiters,
            a.keptFutures == b.keptFutures, a.completions == b.completions, a.resolutions == b.resolutions,
            a.schedules == b.schedules,
            a.limits == b.limits,
            a.limitRunning == b.limitRunning, a.pausedQueues == b.pausedQueues
        else { return false }
        let names = Set(a.queues.keys).union(b.queues.keys)
        return names.allSatisfy { a.liveEntries(of: $0) == b.liveEntries(of: $0) }
    }
}
