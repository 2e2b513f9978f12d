import FlowlineCore
import FlowlineJournal
import Testing

struct EventCodecTests {
    static let at = Instant(milliseconds: 1_795_000_000_123)
    static let w = WorkflowID("wf-1")
    static let t = TaskID("split/chunk-3")
    static let spec = WorkflowSpec(
        name: "etl",
        id: w,
        input: RawJSON(#"{"day":"2026-11-22"}"#),
        timeout: .seconds(3600),
        tasks: [
            TaskSpec(
                id: "extract",
                handler: "extract",
                queue: "io",
                input: RawJSON("[1,2]"),
                deps: [],
                retry: RetryPolicy(
                    maxAttempts: 3,
                    backoff: .milliseconds(50),
                    multiplier: 1.5,
                    maxBackoff: .seconds(60)
                ),
                timeout: .seconds(300),
                heartbeat: .seconds(30),
                revert: "undo_extract",
                priority: -4
            ),
            TaskSpec(id: "load", handler: "load", deps: ["extract"]),
        ]
    )

    static let events: [Event] = [
        .workflowSubmitted(spec, at: at),
        .taskDispatched(w, t, lease: LeaseID(77), worker: "wörker", kind: .revert, at: at),
        .taskCompleted(w, t, result: RawJSON(#"{"ok":true}"#), at: at),
        .taskAttemptFailed(w, t, error: TaskError(type: "boom", message: "m", retryable: false), retryAt: nil, at: at),
        .taskAttemptFailed(w, t, error: .timeout, retryAt: Instant(milliseconds: 5), at: at),
        .taskRequeued(w, t, at: at),
        .leaseReleased(w, t, at: at),
        .taskProgressed(w, t, progress: RawJSON("0.25"), at: at),
        .workflowCompleted(w, at: at),
        .workflowFailed(w, t, error: .workerLost("gone"), at: at),
        .workflowCancelled(w, reason: "operator", revert: true, at: at),
        .taskAwaiting(w, t, future: .key("bq-1", timeout: .seconds(5)), at: at),
        .taskAwaiting(w, t, future: .sleep(.milliseconds(1500)), at: at),
        .taskAwaiting(
            w,
            t,
            future: .poll(handler: "check", input: RawJSON("{}"), interval: .seconds(10), timeout: nil),
            at: at
        ),
        .pollAnswered(w, t, at: at),
        .tasksSpawned(w, t, tasks: spec.tasks, output: "load", at: at),
        .futureKept(key: "k", .resolved(RawJSON("42")), at: at),
        .futureKept(key: "k", .rejected(.timeout), at: at),
        .futureUsed(key: "k", at: at),
        .futureExpired(key: "k", at: at),
        .revertStarted(w, t, at: at),
        .taskReverted(w, t, at: at),
        .revertFailed(w, t, error: .timeout, retryAt: nil, at: at),
        .workflowReverted(w, at: at),
        .workflowTimedOut(w, at: at),
    ]

    @Test("every event survives encode and decode unchanged", arguments: events)
    func roundTrip(event: Event) throws {
        #expect(try EventCodec.decode(EventCodec.encode(event)) == event)
    }

    @Test func truncatedAndForeignRecordsAreRejectedNotTrapped() {
        let bytes = EventCodec.encode(Self.events[0])
        for cut in [0, 1, 5, bytes.count / 2, bytes.count - 1] {
            #expect(throws: JournalError.self) { try EventCodec.decode(Array(bytes.prefix(cut))) }
        }
        #expect(throws: JournalError.self) { try EventCodec.decode([9, 1, 0, 0, 0, 0, 0, 0, 0, 0]) }
        #expect(throws: JournalError.self) { try EventCodec.decode(bytes + [0]) }
    }

    /// Replay decodes views into LMDB's memory, where the next record follows: the view's end, not the memory's,
    /// must bound every read.
    @Test("a record cut short inside a longer buffer is corrupt at every cut", arguments: events)
    func viewsEndWhereTheyAreCut(event: Event) throws {
        let bytes = EventCodec.encode(event)
        let memory = bytes + bytes
        #expect(try EventCodec.decode(memory.span.extracting(0..<bytes.count)) == event)
        #expect(try EventCodec.decode(memory.span.extracting(bytes.count..<memory.count)) == event)
        for cut in 0..<bytes.count {
            let error = #expect(throws: JournalError.self) { try EventCodec.decode(memory.span.extracting(0..<cut)) }
            #expect(error?.code == .corrupt, "cut at \(cut) of \(bytes.count)")
        }
    }
}

struct ExtensionListTests {
    @Test func aFieldTagOfANewerBuildIsUnsupportedNotDropped() throws {
        let spec = WorkflowSpec(name: "n", id: WorkflowID("w"), tasks: [TaskSpec(id: "a", handler: "a")])
        var bytes = EventCodec.encode(.workflowSubmitted(spec, at: Instant(milliseconds: 1)))
        // The spec's list is last and empty: make it one entry of an unknown tag with an empty body.
        #expect(bytes.suffix(8) == [0, 0, 0, 0, 0, 0, 0, 0])
        bytes[bytes.count - 1] = 1
        bytes += [250, 0, 0, 0, 0, 0, 0, 0, 0]
        #expect {
            try EventCodec.decode(bytes)
        } throws: { error in
            (error as? JournalError)?.code == .unsupportedFormat
        }
        // A known tag with a wrong length is corrupt.
        bytes.removeLast(9)
        bytes += [1, 0, 0, 0, 0, 0, 0, 0, 1, 0]
        #expect {
            try EventCodec.decode(bytes)
        } throws: { error in
            (error as? JournalError)?.code == .corrupt
        }
    }
}
