internal import Dispatch
public import FlowlineCore
internal import Synchronization

/// The checkpoint's encodings: one record per workflow (with its tasks) and one for the globals.
///
/// Same change procedure as `EventCodec`: bump `version`, keep the old reader, add a fixture. Version 1 uses
/// `ByteWriter`'s encodings; states are written as their wire names. Version 2 ends the workflow, each task
/// record (after its spec's own list) and the globals with an extension list (`ExtensionTag`); version 1's
/// trailing `metadata` is the workflow's entry `metadata`. Both are read.
public enum SnapshotCodec {
    public static let version: UInt8 = 2

    /// A workflow and its tasks, as of the checkpoint.
    public static func encode(_ w: Workflow) -> [UInt8] {
        var out = ByteWriter(capacity: 256 + w.tasks.count * 128)
        out.u8(version)
        out.string(w.id.rawValue)
        out.string(w.name)
        out.blob(w.input.bytes)
        out.duration(w.timeout)
        out.string(w.state.rawValue)
        out.i64(w.createdAt.milliseconds)
        out.instant(w.finishedAt)
        out.optional(w.error) { $0.error($1) }
        out.bool(w.reverted)
        out.u64(UInt64(w.revertFailures.count))
        for id in w.revertFailures { out.string(id.rawValue) }
        out.int(w.unfinished)
        out.optional(w.endState) { $0.string($1.rawValue) }
        out.u64(UInt64(w.revertQueue.count))
        for position in w.revertQueue { out.int(position) }
        out.u64(w.number)
        out.u64(UInt64(w.tasks.count))
        for task in w.tasks { out.taskRecord(task) }
        out.extensions { list in
            if !w.metadata.isEmpty { list.entry(.metadata) { $0.metadata(w.metadata) } }
        }
        return out.bytes
    }

    /// The snapshots of the workflows `ids` names, in that order, nil for an id `workflows` lacks: what
    /// `encode(_:)` gives for each, made in four shares at once when there are many (a checkpoint after a replay
    /// from seq 1 encodes every workflow).
    public static func encode(_ ids: [WorkflowID], of workflows: [WorkflowID: Workflow]) -> [[UInt8]?] {
        let shares = ids.count < 4096 ? 1 : 4
        let encoded = Mutex<[[[UInt8]?]]>(Array(repeating: [], count: shares))
        DispatchQueue.concurrentPerform(iterations: shares) { share in
            let range = ids.count * share / shares..<ids.count * (share + 1) / shares
            let snapshots = ids[range].map { workflows[$0].map(encode) }
            encoded.withLock { $0[share] = snapshots }
        }
        return encoded.withLock { Array($0.joined()) }
    }

    public static func decodeWorkflow(_ bytes: [UInt8]) throws(JournalError) -> Workflow {
        var r = ByteReader(bytes)
        try checkVersion(&r)
        let id = WorkflowID(try r.string())
        let name = try r.string()
        let input = RawJSON(bytes: try r.blob())
        let timeout = try r.duration()
        var w = Workflow(id: id, spec: WorkflowSpec(name: name, input: input, timeout: timeout, tasks: []), at: .zero)
        w.state = try r.state(WorkflowState.init(rawValue:))
        w.createdAt = Instant(milliseconds: try r.i64())
        w.finishedAt = try r.instant()
        w.error = try r.optional { (r: inout ByteReader) throws(JournalError) in try r.error() }
        w.reverted = try r.bool()
        for _ in 0..<(try r.count()) { w.revertFailures.append(TaskID(try r.string())) }
        w.unfinished = try r.int()
        w.endState = try r.optional { (r: inout ByteReader) throws(JournalError) in
            try r.state(WorkflowState.init(rawValue:))
        }
        for _ in 0..<(try r.count()) { w.revertQueue.append(try r.int()) }
        w.number = try r.u64()
        for _ in 0..<(try r.count()) { w.append(try r.taskRecord()) }
        if r.format < 2 {
            if !r.isAtEnd { w.metadata = try r.metadata() }
        } else {
            try r.extensions { (tag, r) throws(JournalError) in
                switch tag {
                case .metadata: w.metadata = try r.metadata()
                }
            }
        }
        guard r.isAtEnd else { throw JournalError(.corrupt, "trailing bytes in a workflow snapshot") }
        return w
    }

    /// The counters and future bookkeeping, with the seq of the last event the checkpoint includes.
    public static func encode(_ g: CheckpointGlobals, seq: UInt64) -> [UInt8] {
        var out = ByteWriter()
        out.u8(version)
        out.u64(seq)
        for counter in [g.nextLease, g.submitted, g.completions, g.nextTicket] { out.u64(counter) }
        out.u64(UInt64(g.keyWaiters.count))
        for (key, waiters) in g.keyWaiters.sorted(by: { $0.key < $1.key }) {
            out.string(key)
            out.u64(UInt64(waiters.count))
            for waiter in waiters {
                out.string(waiter.task.workflow.rawValue)
                out.int(waiter.task.index)
                out.int(waiter.awaitNumber)
            }
        }
        out.u64(UInt64(g.keptFutures.count))
        for (key, kept) in g.keptFutures.sorted(by: { $0.key < $1.key }) {
            out.string(key)
            out.i64(kept.at.milliseconds)
            switch kept.outcome {
            case .resolved(let result):
                out.u8(0)
                out.blob(result.bytes)
            case .rejected(let error):
                out.u8(1)
                out.error(error)
            }
        }
        out.extensions { _ in }
        return out.bytes
    }

    public static func decodeGlobals(_ bytes: [UInt8]) throws(JournalError) -> (CheckpointGlobals, seq: UInt64) {
        var r = ByteReader(bytes)
        try checkVersion(&r)
        let seq = try r.u64()
        var g = CheckpointGlobals(
            nextLease: try r.u64(),
            submitted: try r.u64(),
            completions: try r.u64(),
            nextTicket: try r.u64(),
            keyWaiters: [:],
            keptFutures: [:]
        )
        for _ in 0..<(try r.count()) {
            let key = try r.string()
            var waiters: [KeyWaiter] = []
            for _ in 0..<(try r.count()) {
                waiters.append(
                    KeyWaiter(workflow: WorkflowID(try r.string()), index: try r.int(), awaitNumber: try r.int())
                )
            }
            g.keyWaiters[key] = waiters
        }
        for _ in 0..<(try r.count()) {
            let key = try r.string()
            let at = Instant(milliseconds: try r.i64())
            let outcome: FutureOutcome =
                try r.u8() == 0 ? .resolved(RawJSON(bytes: try r.blob())) : .rejected(try r.error())
            g.keptFutures[key] = KeptFuture(outcome, at: at)
        }
        if r.format >= 2 {
            try r.extensions { (tag, _) throws(JournalError) in
                throw JournalError(.corrupt, "field tag \(tag.rawValue) in checkpoint globals")
            }
        }
        guard r.isAtEnd else { throw JournalError(.corrupt, "trailing bytes in checkpoint globals") }
        return (g, seq)
    }

    private static func checkVersion(_ r: inout ByteReader) throws(JournalError) {
        let v = try r.u8()
        guard v >= 1 && v <= version else {
            throw JournalError(.unsupportedFormat, "snapshot version \(v); this build reads 1 to \(version)")
        }
        r.format = v
    }
}

extension ByteWriter {
    mutating func instant(_ i: Instant?) { optional(i) { $0.i64($1.milliseconds) } }
    mutating func raw(_ j: RawJSON?) { optional(j) { $0.blob($1.bytes) } }

    mutating func taskRecord(_ t: TaskRecord) {
        string(t.id.rawValue)
        task(t.spec)
        u64(UInt64(t.deps.count))
        for dep in t.deps { string(dep.rawValue) }
        u64(UInt64(t.dependents.count))
        for d in t.dependents { int(d) }
        optional(t.parent) { $0.string($1.rawValue) }
        string(t.state.rawValue)
        int(t.pendingDeps)
        int(t.attempts)
        optional(t.worker) { $0.string($1) }
        for time in [t.scheduledAt, t.startedAt, t.finishedAt, t.retryAt, t.awaitDeadline, t.wakeAt] { instant(time) }
        raw(t.progress)
        raw(t.result)
        optional(t.error) { $0.error($1) }
        optional(t.lease) { $0.u64($1.rawValue) }
        u64(t.queueTicket)
        bool(t.isQueued)
        optional(t.awaiting) { $0.future($1) }
        int(t.awaitNumber)
        optional(t.spawnOutput) { $0.string($1.rawValue) }
        u64(t.completionOrder)
        int(t.revertAttempts)
        extensions { _ in }
    }
}

extension ByteReader {
    mutating func instant() throws(JournalError) -> Instant? {
        try optional { (r: inout ByteReader) throws(JournalError) in Instant(milliseconds: try r.i64()) }
    }

    mutating func raw() throws(JournalError) -> RawJSON? {
        try optional { (r: inout ByteReader) throws(JournalError) in RawJSON(bytes: try r.blob()) }
    }

    mutating func state<S>(_ make: (String) -> S?) throws(JournalError) -> S {
        let name = try string()
        guard let state = make(name) else { throw JournalError(.corrupt, "unknown state '\(name)'") }
        return state
    }

    mutating func taskRecord() throws(JournalError) -> TaskRecord {
        let id = TaskID(try string())
        let spec = try task()
        var deps: [TaskID] = []
        for _ in 0..<(try count()) { deps.append(TaskID(try string())) }
        var dependents: [Int] = []
        for _ in 0..<(try count()) { dependents.append(try int()) }
        let parent = try optional { (r: inout ByteReader) throws(JournalError) in TaskID(try r.string()) }
        var t = TaskRecord(id: id, spec: spec, deps: deps, parent: parent)
        t.dependents = dependents
        t.state = try state(TaskState.init(rawValue:))
        t.pendingDeps = try int()
        t.attempts = try int()
        t.worker = try optional { (r: inout ByteReader) throws(JournalError) in try r.string() }
        t.scheduledAt = try instant()
        t.startedAt = try instant()
        t.finishedAt = try instant()
        t.retryAt = try instant()
        t.awaitDeadline = try instant()
        t.wakeAt = try instant()
        t.progress = try raw()
        t.result = try raw()
        t.error = try optional { (r: inout ByteReader) throws(JournalError) in try r.error() }
        t.lease = try optional { (r: inout ByteReader) throws(JournalError) in LeaseID(try r.u64()) }
        t.queueTicket = try u64()
        t.isQueued = try bool()
        t.awaiting = try optional { (r: inout ByteReader) throws(JournalError) in try r.future() }
        t.awaitNumber = try int()
        t.spawnOutput = try optional { (r: inout ByteReader) throws(JournalError) in TaskID(try r.string()) }
        t.completionOrder = try u64()
        t.revertAttempts = try int()
        if format >= 2 {
            try extensions { (tag, _) throws(JournalError) in
                throw JournalError(.corrupt, "field tag \(tag.rawValue) in a task snapshot")
            }
        }
        return t
    }
}
