import FlowlineCore
import FlowlineJournal
import Testing

struct SnapshotCodecTests {
    @Test func workflowsAndGlobalsSurviveEncodeAndDecode() throws {
        var c = Coordinator()
        let at = Instant(milliseconds: 1_000)
        let spec = WorkflowSpec(
            name: "etl",
            id: WorkflowID("w"),
            input: RawJSON(#"{"day":1}"#),
            timeout: .seconds(60),
            tasks: [
                {
                    var a = TaskSpec(id: "a", handler: "a", queue: "q", revert: "undo", priority: 3)
                    a.limits = ["k"]
                    a.fairnessKey = "t"
                    return a
                }(),
                TaskSpec(id: "b", handler: "b", queue: "q", deps: ["a"], timeout: .seconds(5), heartbeat: .seconds(1)),
            ]
        )
        _ = c.handle(.submit(spec, request: RequestID(1)), at: at)
        let d = c.handle(.connectWorker(WorkerID(1), name: "w1", queues: ["q"], concurrency: 2), at: at)
        guard case .runTask(_, let run)? = d.effects.first else {
            Issue.record("no dispatch")
            return
        }
        _ = c.handle(.complete(run.lease, result: RawJSON("[1]"), poll: nil, from: WorkerID(1), request: nil), at: at)
        _ = c.handle(.resolve(key: "early", .rejected(.timeout), request: RequestID(2)), at: at)
        for (key, id) in [("early", "r1"), ("early", "r2"), ("late", "r1")] {
            _ = c.handle(.resolve(key: key, .resolved(.null), resolutionID: id, request: RequestID(3)), at: at)
        }
        #expect(c.state.resolutionCount == 3)
        // Flow control: a paused workflow, a paused queue, limits (extension entries 42-44).
        _ = c.handle(.setLimit(key: "k", Limit(concurrency: 2, perSecond: 1.5), request: RequestID(3)), at: at)
        _ = c.handle(.pauseQueue("q2", paused: true, request: RequestID(4)), at: at)
        _ = c.handle(.pauseWorkflow(WorkflowID("w"), paused: true, request: RequestID(5)), at: at)
        let state = c.state
        #expect(state.workflows[WorkflowID("w")]?.paused == true && state.limits.count == 1)
        let workflow = try #require(state.workflows[WorkflowID("w")])
        #expect(try SnapshotCodec.decodeWorkflow(SnapshotCodec.encode(workflow)) == workflow)
        let (globals, seq) = try SnapshotCodec.decodeGlobals(SnapshotCodec.encode(state.globals, seq: 42))
        #expect(seq == 42 && globals == state.globals)
        #expect(CoordinatorState(globals: globals, workflows: [workflow]) == state)
        #expect(throws: JournalError.self) {
            try SnapshotCodec.decodeWorkflow(Array(SnapshotCodec.encode(workflow).dropLast()))
        }
    }

    /// SPEC §11's state: a workflow retried once, waiting on a trigger-ruled task after a failure, with a task
    /// whose attempt budget started afresh.
    @Test func secondChanceFieldsSurviveEncodeAndDecode() throws {
        var w = Workflow(
            id: WorkflowID("n"),
            spec: WorkflowSpec(
                name: "nightly",
                retry: RetryPolicy(maxAttempts: 3),
                tasks: []
            ),
            at: Instant(milliseconds: 5)
        )
        w.append(
            TaskRecord(
                id: TaskID("a"),
                spec: TaskSpec(id: "a", handler: "a", revert: "undo", revertOnFailure: true),
                deps: [],
                parent: nil
            )
        )
        w.append(
            TaskRecord(
                id: TaskID("b"),
                spec: TaskSpec(id: "b", handler: "b", deps: ["a"], runIf: .anyFailed),
                deps: [TaskID("a")],
                parent: nil
            )
        )
        w.tasks[0].attempts = 4
        w.tasks[0].attemptBase = 2
        w.attempt = 2
        w.retryAt = Instant(milliseconds: 900)
        w.runningSince = Instant(milliseconds: 700)
        w.failedTask = TaskID("a")
        #expect(try SnapshotCodec.decodeWorkflow(SnapshotCodec.encode(w)) == w)
    }

    @Test func manySnapshotsEncodeInOrderAndDecodeInKeyOrderAndABadOneIsReported() throws {
        var c = Coordinator()
        let at = Instant(milliseconds: 1_000)
        // More than one share's worth, and a count that does not divide evenly.
        for n in 0..<5_003 {
            let spec = WorkflowSpec(
                name: "etl",
                id: WorkflowID("w\(n)"),
                input: RawJSON(#"{"n":\#(n)}"#),
                tasks: [
                    TaskSpec(id: "a", handler: "a", queue: "q"),
                    TaskSpec(id: "b", handler: "b", queue: "q", deps: ["a"]),
                ]
            )
            _ = c.handle(.submit(spec, request: RequestID(UInt64(n))), at: at)
        }
        let workflows = c.state.workflows.values.sorted {
            Array($0.id.rawValue.utf8).lexicographicallyPrecedes($1.id.rawValue.utf8)
        }
        let ids = workflows.map(\.id) + [WorkflowID("missing")]
        let encoded = SnapshotCodec.encode(ids.reversed(), of: c.state.workflows)
        #expect(encoded == ids.reversed().map { c.state.workflows[$0].map(SnapshotCodec.encode) })
        #expect(
            SnapshotCodec.encode(Array(ids.suffix(3)), of: c.state.workflows).map { $0 == nil } == [false, false, true]
        )
        try withTemporaryDirectory { dir in
            let store = try JournalStore(directory: dir, sync: .none)
            #expect(try store.snapshotWorkflows().isEmpty)
            var batch = JournalBatch()
            batch.snapshots = workflows.map { ($0.id.rawValue, SnapshotCodec.encode($0)) }
            try store.commit(batch)
            #expect(try store.snapshotWorkflows() == workflows)

            var bad = JournalBatch()
            bad.snapshots = [("w4000", Array(SnapshotCodec.encode(workflows[0]).dropLast()))]
            try store.commit(bad)
            #expect(throws: JournalError.self) { try store.snapshotWorkflows() }
        }
    }
}
