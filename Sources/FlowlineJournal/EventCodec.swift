public import FlowlineCore

/// The journal's record format.
///
/// Change procedure (a released encoding is never changed in place): bump `version`, keep the old reader as
/// `decodeV1` beside the new one, and check in a fixture journal written by the old version with a test
/// that opens it.
///
/// Version 1: `[version u8][type u8][time i64 ms][fields]`, integers big-endian, bytes and strings
/// length-prefixed (u64), optionals as a presence byte.
/// Version 2: the same, with an extension list (`ExtensionTag`) ending each workflow spec and each task spec;
/// version 1's trailing `metadata` is entry `metadata` of the spec's list. Both are read.
public enum EventCodec {
    /// The version this build writes.
    public static let version: UInt8 = 2
    /// The oldest version this build reads.
    static let oldestReadable: UInt8 = 1

    /// Encodes one event as a journal record.
    public static func encode(_ event: Event) -> [UInt8] {
        var w = ByteWriter()
        w.u8u8u64(version, tag(event), UInt64(bitPattern: event.time.milliseconds))
        switch event {
        case .workflowSubmitted(let spec, _): w.spec(spec)
        case .taskDispatched(let wf, let t, let lease, let worker, let kind, _):
            w.ids(wf, t)
            w.u64(lease.rawValue)
            w.string(worker)
            w.u8(kind.rawValue)
        case .taskCompleted(let wf, let t, let result, _):
            w.ids(wf, t)
            w.blob(result.bytes)
        case .taskAttemptFailed(let wf, let t, let error, let retryAt, _):
            w.ids(wf, t)
            w.error(error)
            w.optional(retryAt) { $0.i64($1.milliseconds) }
        case .taskRequeued(let wf, let t, _), .leaseReleased(let wf, let t, _): w.ids(wf, t)
        case .taskProgressed(let wf, let t, let progress, _):
            w.ids(wf, t)
            w.blob(progress.bytes)
        case .workflowCompleted(let wf, _), .workflowTimedOut(let wf, _): w.string(wf.rawValue)
        case .workflowFailed(let wf, let t, let error, _):
            w.ids(wf, t)
            w.error(error)
        case .workflowCancelled(let wf, let reason, let revert, _):
            w.string(wf.rawValue)
            w.string(reason)
            w.bool(revert)
        case .taskAwaiting(let wf, let t, let future, _):
            w.ids(wf, t)
            w.future(future)
        case .pollAnswered(let wf, let t, _), .revertStarted(let wf, let t, _), .taskReverted(let wf, let t, _):
            w.ids(wf, t)
        case .tasksSpawned(let wf, let t, let tasks, let output, _):
            w.ids(wf, t)
            w.u64(UInt64(tasks.count))
            for task in tasks { w.task(task) }
            w.string(output)
        case .futureKept(let key, let outcome, _):
            w.string(key)
            switch outcome {
            case .resolved(let result):
                w.u8(0)
                w.blob(result.bytes)
            case .rejected(let error):
                w.u8(1)
                w.error(error)
            }
        case .futureUsed(let key, _), .futureExpired(let key, _): w.string(key)
        case .revertFailed(let wf, let t, let error, let retryAt, _):
            w.ids(wf, t)
            w.error(error)
            w.optional(retryAt) { $0.i64($1.milliseconds) }
        case .workflowReverted(let wf, _): w.string(wf.rawValue)
        case .workflowsCompacted(let ids, _):
            w.u64(UInt64(ids.count))
            for id in ids { w.string(id.rawValue) }
        }
        return w.bytes
    }

    /// The first two bytes of every record of this version for `Event.workflowSubmitted` (recovery counts these to
    /// size its tables before replaying; submissions of version 1 are not counted, and the tables grow for them).
    static let workflowSubmittedPrefix: [UInt8] = [version, 1]

    /// The id of the workflow a record belongs to ("" for records of none), as the daemon indexes it.
    ///
    /// Reads only as far as the id, which leads the fields of every record that has one (a submission's comes
    /// after the spec's name): history and `replay --verify` ask this of every record past the index.
    static func workflowID(of bytes: [UInt8]) throws(JournalError) -> String {
        var r = ByteReader(bytes.span)
        guard try r.u8() == version else { return try decode(bytes).workflowID.rawValue }
        let type = try r.u8()
        _ = try r.i64()
        switch type {
        case 1:
            _ = try r.string()
            return try r.optional { (r: inout ByteReader) throws(JournalError) in try r.string() } ?? ""
        case 2...14, 18...21: return try r.string()
        case 15...17, 22: return ""
        default: return try decode(bytes).workflowID.rawValue
        }
    }

    /// Decodes a record; throws `corrupt` for bytes this build did not write, `unsupportedFormat` for a newer version.
    public static func decode(_ bytes: [UInt8]) throws(JournalError) -> Event { try decode(bytes.span) }

    /// `decode`, reading the record where it lies (replay hands in LMDB's memory, valid only inside the transaction).
    public static func decode(_ bytes: Span<UInt8>) throws(JournalError) -> Event {
        var strings = StringTable()
        return try decode(bytes, strings: &strings)
    }

    /// `decode`, reusing the strings of earlier records that `strings` kept (replay decodes each id many times).
    static func decode(_ bytes: Span<UInt8>, strings: inout StringTable) throws(JournalError) -> Event {
        var r = ByteReader(bytes, strings: strings.take())
        defer { strings = r.strings.take() }
        try readVersion(&r)
        let event = try decodeV1(&r)
        guard r.isAtEnd else { throw JournalError(.corrupt, "trailing bytes in an event record") }
        return event
    }

    /// `ReplayStep(try decode(bytes, strings: &strings))`, with a submission's workflow built from the spec as it is
    /// decoded (`ReplayStep(submitted:at:)`) rather than found again in the event.
    static func decodeStep(_ bytes: Span<UInt8>, strings: inout StringTable) throws(JournalError) -> ReplayStep {
        var r = ByteReader(bytes, strings: strings.take())
        defer { strings = r.strings.take() }
        try readVersion(&r)
        let step: ReplayStep
        if r.offset < r.bytes.count && r.bytes[r.offset] == workflowSubmittedPrefix[1] {
            r.offset += 1
            let at = Instant(milliseconds: try r.i64())
            step = ReplayStep(submitted: try r.spec(), at: at)
        } else {
            step = ReplayStep(try decodeV1(&r))
        }
        guard r.isAtEnd else { throw JournalError(.corrupt, "trailing bytes in an event record") }
        return step
    }

    /// Reads a record's version byte: `unsupportedFormat` for a version this build does not read. Always inlined:
    /// left to the optimiser it was a call per replayed record, 29M instructions of a 1,000,000-event replay.
    @inline(__always)
    private static func readVersion(_ r: inout ByteReader) throws(JournalError) {
        let v = try r.u8()
        guard v <= version && v >= oldestReadable else {
            throw JournalError(
                .unsupportedFormat,
                "event record version \(v); this build reads \(oldestReadable) to \(version)"
            )
        }
        r.format = v
    }

    private static func decodeV1(_ r: inout ByteReader) throws(JournalError) -> Event {
        let type = try r.u8()
        let at = Instant(milliseconds: try r.i64())
        switch type {
        case 1: return .workflowSubmitted(try r.spec(), at: at)
        case 2:
            let (wf, t) = try r.ids()
            let lease = LeaseID(try r.u64())
            let worker = try r.string()
            guard let kind = RunKind(rawValue: try r.u8()) else { throw JournalError(.corrupt, "unknown run kind") }
            return .taskDispatched(wf, t, lease: lease, worker: worker, kind: kind, at: at)
        case 3:
            let (wf, t) = try r.ids()
            return .taskCompleted(wf, t, result: RawJSON(bytes: try r.blob()), at: at)
        case 4:
            let (wf, t) = try r.ids()
            let error = try r.error()
            let retryAt = try r.optional { (r: inout ByteReader) throws(JournalError) in
                Instant(milliseconds: try r.i64())
            }
            return .taskAttemptFailed(wf, t, error: error, retryAt: retryAt, at: at)
        case 5:
            let (wf, t) = try r.ids()
            return .taskRequeued(wf, t, at: at)
        case 6:
            let (wf, t) = try r.ids()
            return .leaseReleased(wf, t, at: at)
        case 7:
            let (wf, t) = try r.ids()
            return .taskProgressed(wf, t, progress: RawJSON(bytes: try r.blob()), at: at)
        case 8: return .workflowCompleted(WorkflowID(try r.string()), at: at)
        case 9:
            let (wf, t) = try r.ids()
            return .workflowFailed(wf, t, error: try r.error(), at: at)
        case 10:
            return .workflowCancelled(WorkflowID(try r.string()), reason: try r.string(), revert: try r.bool(), at: at)
        case 11: return .workflowTimedOut(WorkflowID(try r.string()), at: at)
        default: return try decodeFutureEvents(type, at: at, &r)
        }
    }

    private static func decodeFutureEvents(
        _ type: UInt8,
        at: Instant,
        _ r: inout ByteReader
    ) throws(JournalError) -> Event {
        switch type {
        case 12:
            let (wf, t) = try r.ids()
            return .taskAwaiting(wf, t, future: try r.future(), at: at)
        case 13:
            let (wf, t) = try r.ids()
            return .pollAnswered(wf, t, at: at)
        case 14:
            let (wf, t) = try r.ids()
            var tasks: [TaskSpec] = []
            for _ in 0..<(try r.count()) { tasks.append(try r.task()) }
            return .tasksSpawned(wf, t, tasks: tasks, output: try r.string(), at: at)
        case 15:
            let key = try r.string()
            let outcome: FutureOutcome =
                try r.u8() == 0 ? .resolved(RawJSON(bytes: try r.blob())) : .rejected(try r.error())
            return .futureKept(key: key, outcome, at: at)
        case 16: return .futureUsed(key: try r.string(), at: at)
        case 17: return .futureExpired(key: try r.string(), at: at)
        case 18:
            let (wf, t) = try r.ids()
            return .revertStarted(wf, t, at: at)
        case 19:
            let (wf, t) = try r.ids()
            return .taskReverted(wf, t, at: at)
        case 20:
            let (wf, t) = try r.ids()
            let error = try r.error()
            let retryAt = try r.optional { (r: inout ByteReader) throws(JournalError) in
                Instant(milliseconds: try r.i64())
            }
            return .revertFailed(wf, t, error: error, retryAt: retryAt, at: at)
        case 21: return .workflowReverted(WorkflowID(try r.string()), at: at)
        case 22:
            var ids: [WorkflowID] = []
            for _ in 0..<(try r.count()) { ids.append(WorkflowID(try r.string())) }
            return .workflowsCompacted(ids, at: at)
        default: throw JournalError(.corrupt, "unknown event type \(type)")
        }
    }

    private static func tag(_ event: Event) -> UInt8 {
        switch event {
        case .workflowSubmitted: 1
        case .taskDispatched: 2
        case .taskCompleted: 3
        case .taskAttemptFailed: 4
        case .taskRequeued: 5
        case .leaseReleased: 6
        case .taskProgressed: 7
        case .workflowCompleted: 8
        case .workflowFailed: 9
        case .workflowCancelled: 10
        case .workflowTimedOut: 11
        case .taskAwaiting: 12
        case .pollAnswered: 13
        case .tasksSpawned: 14
        case .futureKept: 15
        case .futureUsed: 16
        case .futureExpired: 17
        case .revertStarted: 18
        case .taskReverted: 19
        case .revertFailed: 20
        case .workflowReverted: 21
        case .workflowsCompacted: 22
        }
    }
}

// MARK: - Field encodings

extension ByteWriter {
    mutating func ids(_ wf: WorkflowID, _ t: TaskID) { strings(wf.rawValue, t.rawValue) }

    /// Bit 0 of the flags byte is `retryable`; bit 1 says `data` follows. Errors journaled before `data` existed
    /// wrote 0 or 1 there, so they read as before.
    mutating func error(_ e: TaskError) {
        string(e.type)
        string(e.message)
        u8((e.retryable ? 1 : 0) | (e.data == nil ? 0 : 2))
        if let data = e.data { blob(data.bytes) }
    }

    mutating func duration(_ d: Duration?) { optional(d) { $0.i64($1.milliseconds) } }

    mutating func spec(_ s: WorkflowSpec) {
        string(s.name)
        optional(s.id) { $0.string($1.rawValue) }
        blob(s.input.bytes)
        duration(s.timeout)
        u64(UInt64(s.tasks.count))
        for task in s.tasks { self.task(task) }
        extensions { list in
            if !s.metadata.isEmpty { list.entry(.metadata) { $0.metadata(s.metadata) } }
        }
    }

    mutating func metadata(_ entries: [MetadataEntry]) {
        u64(UInt64(entries.count))
        for entry in entries { strings(entry.key, entry.value) }
    }

    mutating func future(_ f: Future) {
        switch f {
        case .key(let key, let timeout):
            u8(0)
            string(key)
            duration(timeout)
        case .sleep(let d):
            u8(1)
            i64(d.milliseconds)
        case .poll(let handler, let input, let interval, let timeout):
            u8(2)
            string(handler)
            blob(input.bytes)
            i64(interval.milliseconds)
            duration(timeout)
        }
    }

    mutating func task(_ t: TaskSpec) {
        strings(t.id, t.handler)
        string(t.queue)
        blob(t.input.bytes)
        u64(UInt64(t.deps.count))
        for dep in t.deps { string(dep) }
        u64s(
            UInt64(bitPattern: Int64(t.retry.maxAttempts)),
            UInt64(bitPattern: t.retry.backoff.milliseconds),
            t.retry.multiplier.bitPattern,
            UInt64(bitPattern: t.retry.maxBackoff.milliseconds)
        )
        duration(t.timeout)
        duration(t.heartbeat)
        optional(t.revert) { $0.string($1) }
        int(t.priority)
        extensions { _ in }
    }
}

extension ByteReader {
    mutating func ids() throws(JournalError) -> (WorkflowID, TaskID) {
        (WorkflowID(try string()), TaskID(try string()))
    }

    mutating func error() throws(JournalError) -> TaskError {
        let type = try string()
        let message = try string()
        let flags = try u8()
        let data = flags & 2 == 0 ? nil : RawJSON(bytes: try blob())
        return TaskError(type: type, message: message, retryable: flags & 1 != 0, data: data)
    }

    mutating func duration() throws(JournalError) -> Duration? {
        try optional { (r: inout ByteReader) throws(JournalError) in Duration.milliseconds(try r.i64()) }
    }

    mutating func count() throws(JournalError) -> Int {
        let n = try u64()
        // Each element takes at least 8 bytes, so a count beyond that is corrupt, not an allocation to attempt.
        guard n <= UInt64(bytes.count - offset) / 8 else { throw JournalError(.corrupt, "count past the record's end") }
        return Int(n)
    }

    mutating func future() throws(JournalError) -> Future {
        switch try u8() {
        case 0: return .key(try string(), timeout: try duration())
        case 1: return .sleep(.milliseconds(try i64()))
        case 2:
            return .poll(
                handler: try string(),
                input: RawJSON(bytes: try blob()),
                interval: .milliseconds(try i64()),
                timeout: try duration()
            )
        default: throw JournalError(.corrupt, "unknown future kind")
        }
    }

    mutating func spec() throws(JournalError) -> WorkflowSpec {
        let name = try string()
        let id = try optional { (r: inout ByteReader) throws(JournalError) in WorkflowID(try r.string()) }
        let input = RawJSON(bytes: try blob())
        let timeout = try duration()
        let n = try count()
        var tasks: [TaskSpec] = []
        tasks.reserveCapacity(n)
        for _ in 0..<n { tasks.append(try task()) }
        var spec = WorkflowSpec(name: name, id: id, input: input, timeout: timeout, tasks: tasks)
        guard format >= 2 else {
            // Version 1 wrote metadata last, and only when there was some. A submission is the only event with a
            // spec, and the spec is its last field.
            if !isAtEnd { spec.metadata = try metadata() }
            return spec
        }
        try extensions { (tag, r) throws(JournalError) in
            switch tag {
            case .metadata: spec.metadata = try r.metadata()
            }
        }
        return spec
    }

    /// What `ByteWriter.metadata` wrote.
    mutating func metadata() throws(JournalError) -> [MetadataEntry] {
        let n = try count()
        var entries: [MetadataEntry] = []
        entries.reserveCapacity(n)
        for _ in 0..<n { entries.append(MetadataEntry(key: try string(), value: try string())) }
        return entries
    }

    mutating func task() throws(JournalError) -> TaskSpec {
        let id = try string()
        let handler = try string()
        let queue = try string()
        let input = RawJSON(bytes: try blob())
        let n = try count()
        var deps: [String] = []
        if n > 0 { deps.reserveCapacity(n) }
        for _ in 0..<n { deps.append(try string()) }
        let retry = RetryPolicy(
            maxAttempts: try int(),
            backoff: .milliseconds(try i64()),
            multiplier: try double(),
            maxBackoff: .milliseconds(try i64())
        )
        let spec = TaskSpec(
            id: id,
            handler: handler,
            queue: queue,
            input: input,
            deps: deps,
            retry: retry,
            timeout: try duration(),
            heartbeat: try duration(),
            revert: try optional { (r: inout ByteReader) throws(JournalError) in try r.string() },
            priority: try int()
        )
        guard format >= 2 else { return spec }
        try extensions { (tag, _) throws(JournalError) in
            throw JournalError(.corrupt, "field tag \(tag.rawValue) in a task spec")
        }
        return spec
    }
}
