public import FlowlineCore

/// What changed since the last checkpoint: the workflows whose snapshots the next checkpoint rewrites, and how
/// many events were committed since. Kept by a journal as it takes events, and rebuilt by recovery from the events
/// it replays after the checkpoint.
public struct CheckpointTracker: Sendable {
    /// Workflows changed since the last checkpoint (compacted ones included: their snapshots are dropped).
    public private(set) var dirty: Set<WorkflowID> = []
    /// True after a replay from the journal's start (no checkpoint): every workflow in the state is dirty too,
    /// without hashing each id into `dirty` before the daemon listens.
    public private(set) var isAllDirty = false
    /// Events committed since the last checkpoint.
    public private(set) var eventsSinceCheckpoint = 0
    /// The last workflow marked: a workflow's events mostly come in runs (submitted then dispatched, completed then
    /// the workflow completed), so checking it spares most of the hashing.
    private var lastDirty = WorkflowID("")

    public init() {}

    /// Whether a checkpoint now would write anything beside the globals.
    public var hasChanges: Bool { isAllDirty || !dirty.isEmpty }

    /// Marks the workflows `event` changes.
    public mutating func note(_ event: Event) {
        if case .workflowsCompacted(let ids, _) = event {
            dirty.formUnion(ids)
            return
        }
        let id = event.workflowID
        guard !id.rawValue.isEmpty && id != lastDirty else { return }
        dirty.insert(id)
        lastDirty = id
    }

    /// Counts `count` more committed events.
    public mutating func committed(_ count: Int) { eventsSinceCheckpoint += count }

    /// After a replay from seq 1 of `count` events into a state holding `workflows`: everything is dirty.
    public mutating func replayedFromStart(_ count: Int, workflows: Int) {
        dirty = []
        lastDirty = WorkflowID("")
        isAllDirty = workflows > 0
        eventsSinceCheckpoint = count
    }

    /// A checkpoint was committed: nothing has changed since.
    public mutating func checkpointed() {
        dirty.removeAll(keepingCapacity: true)
        lastDirty = WorkflowID("")
        isAllDirty = false
        eventsSinceCheckpoint = 0
    }

    /// The workflows a checkpoint of `workflows` snapshots, in id order: the dirty ones, or, when everything is,
    /// every workflow held and those changed since that are gone (compacted).
    public func toSnapshot(in workflows: [WorkflowID: Workflow]) -> [WorkflowID] {
        guard isAllDirty else { return dirty.sorted() }
        var ids = Array(workflows.keys)
        for id in dirty where workflows.index(forKey: id) == nil { ids.append(id) }
        ids.sort()
        return ids
    }
}
