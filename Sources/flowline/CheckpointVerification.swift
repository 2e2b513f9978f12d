import FlowlineCore
import FlowlineJournal

/// `replay --verify`'s checkpoint check: the journal's events from seq 1 through the checkpoint's seq, applied with
/// `Coordinator.apply`, must rebuild every workflow exactly as the checkpoint's snapshot of it, and the same key
/// waiters and kept futures.
///
/// Compaction deletes every record of a compacted workflow, so a replay from seq 1 counts fewer submissions,
/// completions, queue tickets and leases than the daemon did. The counters are therefore not compared, and the
/// fields numbered by them (`number`, `completionOrder`, `queueTicket`) are compared by the order they give: the
/// workflows' submission order, each workflow's completion order, each queue's order.
struct CheckpointVerification {
    /// The checkpoint's seq, the workflows compared, and one line per difference.
    var seq: UInt64
    var compared = 0
    /// In the checkpoint, compacted by an event after it: their records are gone, so there is nothing to compare.
    var compactedSince: [WorkflowID] = []
    var problems: [String] = []
    /// The checkpoint's counters beside the replay's, for people (not compared).
    var counters = ""

    /// The `checkpoint:` line of `replay --verify`.
    var summary: String {
        let skipped = compactedSince.isEmpty ? "" : ", \(compactedSince.count) compacted since skipped"
        return "checkpoint: \(compared) workflows at seq \(seq) compared with a replay of seq 1 to \(seq)\(skipped) "
            + "(counters not compared: \(counters))"
    }

    /// Runs the check on `store`'s checkpoint, for workflow `only` or all; `nil` when there is no checkpoint.
    /// The replay is the daemon's recovery routine run from scratch to the checkpoint's seq, in the same read
    /// transaction as the checkpoint it is compared with.
    static func run(store: JournalStore, only: WorkflowID?) throws(ToolError) -> CheckpointVerification? {
        var replay = Coordinator(futureRetention: .zero)
        var compacted: Set<WorkflowID> = []
        let recovery: Recovery
        do {
            recovery = try Recovery.run(
                store,
                into: &replay,
                options: Recovery.Options(usesCheckpoint: false, limit: .checkpoint, keepsCheckpoint: true)
            ) { event in
                if case .workflowsCompacted(let ids, _) = event { compacted.formUnion(ids) }
            }
        } catch {
            throw ToolError.journal(error, directory: store.directory)
        }
        guard let checkpoint = recovery.checkpoint, let globals = checkpoint.globals else { return nil }
        let stored = (globals: globals, seq: checkpoint.seq, workflows: checkpoint.workflows)
        var check = CheckpointVerification(seq: stored.seq)
        check.compare(replay.state, stored.workflows, compactedSince: compacted, only: only)
        if only == nil { check.compareFutures(replay.state, stored.globals) }
        let g = stored.globals
        let r = replay.state
        check.counters =
            "checkpoint submitted \(g.submitted), completions \(g.completions), next lease \(g.nextLease); "
            + "replay \(r.submitted), \(r.completions), \(r.nextLease)"
        return check
    }

    private mutating func compare(
        _ state: CoordinatorState,
        _ snapshots: [Workflow],
        compactedSince compacted: Set<WorkflowID>,
        only: WorkflowID?
    ) {
        let checkpointed = Dictionary(snapshots.map { ($0.id, $0) }) { first, _ in first }
        var ids = Set(checkpointed.keys).union(state.workflows.keys)
        if let only { ids = ids.filter { $0 == only } }
        var both: [WorkflowID] = []
        for id in ids.sorted() {
            switch (state.workflows[id], checkpointed[id]) {
            case (.some, .some): both.append(id)
            case (nil, .some) where compacted.contains(id): compactedSince.append(id)
            case (nil, .some): problems.append("\(id): in the checkpoint, but the journal's events do not rebuild it")
            case (.some, nil):
                problems.append("\(id): rebuilt from the journal, but the checkpoint has no snapshot of it")
            case (nil, nil): break
            }
        }
        let replayed = Self.normalized(both.compactMap { state.workflows[$0] })
        let stored = Self.normalized(both.compactMap { checkpointed[$0] })
        for id in both {
            guard let a = replayed[id], let b = stored[id] else { continue }
            problems += FieldDifference.workflow(a, b).map { "\(id): \($0)" }
        }
        compared = both.count
    }

    /// Key waiters (of the workflows compared) and kept futures must be the same.
    private mutating func compareFutures(_ state: CoordinatorState, _ globals: CheckpointGlobals) {
        func waiters(_ all: [String: [KeyWaiter]]) -> [String: [KeyWaiter]] {
            all.mapValues { $0.filter { state.workflows[$0.task.workflow] != nil } }.filter { !$0.value.isEmpty }
        }
        let (a, b) = (waiters(state.keyWaiters), waiters(globals.keyWaiters))
        for key in Set(a.keys).union(b.keys).sorted() where a[key] != b[key] {
            let describe = { (list: [KeyWaiter]?) in
                "["
                    + (list ?? []).map { w in
                        let task = state.task(w.task)?.id.rawValue ?? "#\(w.task.index)"
                        return "\(w.task.workflow)/\(task) (await \(w.awaitNumber))"
                    }.joined(separator: ", ") + "]"
            }
            problems.append("key waiters of \"\(key)\": replay \(describe(a[key])), checkpoint \(describe(b[key]))")
        }
        let (p, q) = (state.keptFutures, globals.keptFutures)
        for key in Set(p.keys).union(q.keys).sorted() where p[key] != q[key] {
            let describe = { (kept: KeptFuture?) in kept.map { "\($0.outcome) at \($0.at)" } ?? "none" }
            problems.append("kept future \"\(key)\": replay \(describe(p[key])), checkpoint \(describe(q[key]))")
        }
        let (r, s) = (state.resolutions, globals.resolutions)
        for key in Set(r.keys).union(s.keys).sorted() where r[key] != s[key] {
            let describe = { (ids: [String: AppliedResolution]?) in
                (ids ?? [:]).sorted { $0.key < $1.key }.map {
                    "\($0.key): matched \($0.value.matched) at \($0.value.at)"
                }
                .joined(separator: ", ")
            }
            problems.append(
                "resolution ids of \"\(key)\": replay [\(describe(r[key]))], checkpoint [\(describe(s[key]))]"
            )
        }
    }

    /// The workflows with their counter-numbered fields replaced by ranks: `number` by submission order among
    /// them, `completionOrder` by completion order within each workflow, `queueTicket` by place in its queue
    /// (0 when not queued: a stale ticket means nothing).
    static func normalized(_ workflows: [Workflow]) -> [WorkflowID: Workflow] {
        var result: [WorkflowID: Workflow] = [:]
        var queued: [String: [(ticket: UInt64, workflow: WorkflowID, position: Int)]] = [:]
        for (rank, original) in workflows.sorted(by: { $0.number < $1.number }).enumerated() {
            var workflow = original
            workflow.number = UInt64(rank + 1)
            let completed = workflow.tasks.indices.filter { workflow.tasks[$0].completionOrder > 0 }
                .sorted { workflow.tasks[$0].completionOrder < workflow.tasks[$1].completionOrder }
            for (order, position) in completed.enumerated() {
                workflow.tasks[position].completionOrder = UInt64(order + 1)
            }
            for position in workflow.tasks.indices {
                let task = workflow.tasks[position]
                if task.isQueued {
                    queued[task.spec.queue, default: []].append((task.queueTicket, workflow.id, position))
                }
                workflow.tasks[position].queueTicket = 0
            }
            result[workflow.id] = workflow
        }
        for entries in queued.values {
            for (place, entry) in entries.sorted(by: { $0.ticket < $1.ticket }).enumerated() {
                result[entry.workflow]?.tasks[entry.position].queueTicket = UInt64(place + 1)
            }
        }
        return result
    }
}
