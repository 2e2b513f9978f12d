import FlowlineCore
import FlowlineTestSupport
import Testing

/// Routing by handler (SPEC §8) and flow control (SPEC §11): pause, limits, fairness, as transitions of the core.
struct FlowControlTests {
    /// Independent tasks of one workflow, each `(id, handler, limits, fairness key)`.
    static func tasks(_ specs: [(String, String, [String], String)], id: String = "w") -> WorkflowSpec {
        WorkflowSpec(
            name: "flow",
            id: WorkflowID(id),
            tasks: specs.map { spec in
                var task = TaskSpec(id: spec.0, handler: spec.1)
                task.limits = spec.2
                task.fairnessKey = spec.3
                return task
            }
        )
    }

    static func plain(_ ids: [String], handler: String = "h", limits: [String] = [], id: String = "w") -> WorkflowSpec {
        tasks(ids.map { ($0, handler, limits, "") }, id: id)
    }

    // MARK: - Routing

    @Test func aWorkerGetsOnlyItsHandlersAndNoOlderTaskBlocksIt() {
        var h = Harness()
        let (w, _) = h.submit(Self.tasks([("l1", "load", [], ""), ("l2", "load", [], ""), ("e1", "extract", [], "")]))
        let extractor = h.worker(1, concurrency: 5, handlers: ["extract"])
        #expect(extractor.runs.map(\.taskID) == [TaskID("e1")])
        let record = h.coordinator.record(w, at: Instant(milliseconds: 1))!
        #expect(record.tasks[0].waitingFor == "no worker offers handler load on queue default")
        #expect(record.tasks[2].waitingFor == nil)
        let loader = h.worker(2, concurrency: 1, handlers: ["load"])
        #expect(loader.runs.map(\.taskID) == [TaskID("l1")])
        // A capable worker that is merely busy holds nothing back in the record's eyes.
        #expect(h.coordinator.record(w, at: Instant(milliseconds: 2))!.tasks[1].waitingFor == nil)
        #expect(h.workflow(w).tasks[1].state == .ready)
    }

    @Test func aWorkerWithoutAListTakesAnything() {
        var h = Harness()
        h.submit(Self.tasks([("l1", "load", [], ""), ("e1", "extract", [], "")]))
        #expect(h.worker(1).runs.map(\.taskID) == [TaskID("l1"), TaskID("e1")])
    }

    @Test func pollsAndRevertsGoByTheirOwnHandler() {
        var h = Harness()
        let (w, _) = h.submit(Self.tasks([("t", "main", [], "")]))
        let run = h.worker(1, concurrency: 5, handlers: ["main"]).runs[0]
        let poll = Future.poll(handler: "check", input: .emptyObject, interval: .seconds(1), timeout: nil)
        let awaited = h.send(.await(run.lease, poll, from: WorkerID(1), request: nil), at: 10)
        #expect(awaited.runs.isEmpty)
        #expect(
            h.coordinator.record(w, at: Instant(milliseconds: 10))!.tasks[0].waitingFor
                == "no worker offers handler check on queue default"
        )
        let checker = h.worker(2, handlers: ["check"], at: 20)
        #expect(checker.runs.map(\.handler) == ["check"])
        #expect(checker.runs.map(\.kind) == [.poll])
    }

    // MARK: - Pause

    @Test func aPausedWorkflowDispatchesNothingUntilResumed() {
        var h = Harness()
        let (w, _) = h.submit(Self.plain(["a", "b"]))
        let paused = h.send(.pauseWorkflow(w, paused: true, request: h.request()), at: 1)
        guard case .workflow(let record)? = paused.replies.first else {
            Issue.record("no record")
            return
        }
        #expect(record.paused)
        #expect(record.tasks[0].waitingFor == "workflow w is paused")
        #expect(h.worker(1, at: 2).runs.isEmpty)
        let (other, _) = h.submit(Self.plain(["x"], id: "other"), at: 3)
        #expect(h.task(other, "x").state == .running)
        let resumed = h.send(.pauseWorkflow(w, paused: false, request: h.request()), at: 4)
        #expect(resumed.runs.map(\.taskID) == [TaskID("a"), TaskID("b")])
        #expect(!h.workflow(w).paused)
    }

    @Test func runningTasksFinishWhilePausedAndEndedWorkflowsRefuse() {
        var h = Harness()
        _ = h.worker(1)
        let (w, first) = h.submit(.chain(length: 2, id: "c"))
        _ = h.send(.pauseWorkflow(w, paused: true, request: h.request()), at: 1)
        let completed = h.complete(first.runs[0], at: 2)
        #expect(completed.runs.isEmpty, "the next task waits for the resume")
        #expect(h.workflow(w).tasks[0].state == .completed)
        let resumed = h.send(.pauseWorkflow(w, paused: false, request: h.request()), at: 3)
        _ = h.complete(resumed.runs[0], at: 4)
        #expect(h.workflow(w).state == .completed)
        let late = h.send(.pauseWorkflow(w, paused: true, request: h.request()), at: 5)
        guard case .failure(.invalid(let error))? = late.replies.first else {
            Issue.record("not refused")
            return
        }
        #expect(error.path == "workflow_id")
        #expect(late.events.isEmpty)
    }

    @Test func aPausedQueueHoldsItsTasksOnly() {
        var h = Harness()
        _ = h.send(.pauseQueue("default", paused: true, request: h.request()), at: 0)
        let (w, _) = h.submit(Self.plain(["a"]))
        _ = h.submit(.single(id: "s", queue: "other"))
        let worker = h.worker(1, queues: ["default", "other"], at: 1)
        #expect(worker.runs.map(\.workflowID) == [WorkflowID("s")])
        #expect(h.coordinator.record(w, at: Instant(milliseconds: 1))!.tasks[0].waitingFor == "queue default is paused")
        let resumed = h.send(.pauseQueue("default", paused: false, request: h.request()), at: 2)
        #expect(resumed.runs.map(\.taskID) == [TaskID("a")])
        #expect(resumed.replies == [.ok])
    }

    // MARK: - Limits

    @Test func aConcurrencyLimitHoldsItsKeyOnlyAndReleasesOnCompletion() {
        var h = Harness()
        _ = h.send(.setLimit(key: "k", Limit(concurrency: 2), request: h.request()), at: 0)
        let (w, _) = h.submit(
            Self.tasks([
                ("k1", "h", ["k"], ""), ("k2", "h", ["k"], ""), ("k3", "h", ["k"], ""), ("free", "h", [], ""),
            ])
        )
        let first = h.worker(1, at: 1)
        #expect(first.runs.map(\.taskID) == [TaskID("k1"), TaskID("k2"), TaskID("free")])
        #expect(h.coordinator.state.limitRunning["k"] == 2)
        #expect(h.coordinator.record(w, at: Instant(milliseconds: 1))!.tasks[2].waitingFor == "limit k: 2 of 2 running")
        let next = h.complete(first.runs[0], at: 2)
        #expect(next.runs.map(\.taskID) == [TaskID("k3")])
        #expect(h.coordinator.state.limitRunning["k"] == 2)
    }

    @Test func concurrencyZeroHoldsEverythingAndDeletingFreesIt() {
        var h = Harness()
        _ = h.send(.setLimit(key: "k", Limit(concurrency: 0), request: h.request()), at: 0)
        h.submit(Self.plain(["a", "b"], limits: ["k"]))
        #expect(h.worker(1, at: 1).runs.isEmpty)
        let deleted = h.send(.deleteLimit(key: "k", request: h.request()), at: 2)
        #expect(deleted.runs.count == 2)
        let unknown = h.send(.deleteLimit(key: "k", request: h.request()), at: 3)
        #expect(unknown.replies == [.failure(.unknownLimit("k"))])
    }

    @Test func aTaskUnderTwoKeysNeedsBoth() {
        var h = Harness()
        _ = h.send(.setLimit(key: "a", Limit(concurrency: 5), request: h.request()), at: 0)
        _ = h.send(.setLimit(key: "b", Limit(concurrency: 1), request: h.request()), at: 0)
        h.submit(Self.tasks([("ab1", "h", ["a", "b"], ""), ("ab2", "h", ["a", "b"], ""), ("a1", "h", ["a"], "")]))
        #expect(h.worker(1, at: 1).runs.map(\.taskID) == [TaskID("ab1"), TaskID("a1")])
    }

    @Test func aRateLimitSpacesDispatchesAndWakesOnItsTimer() {
        var h = Harness()
        _ = h.send(.setLimit(key: "r", Limit(perSecond: 2), request: h.request()), at: 0)
        h.submit(Self.plain(["a", "b", "c", "d"], limits: ["r"]))
        let first = h.worker(1, at: 0)
        // The bucket starts full: two tokens, then one every 500 ms.
        #expect(first.runs.map(\.taskID) == [TaskID("a"), TaskID("b")])
        #expect(first.timers[.limitToken(key: "r")] == Instant(milliseconds: 500))
        let woken = h.send(.fireTimer(.limitToken(key: "r")), at: 500)
        #expect(woken.runs.map(\.taskID) == [TaskID("c")])
        #expect(woken.timers[.limitToken(key: "r")] == Instant(milliseconds: 1000))
        let early = h.send(.fireTimer(.limitToken(key: "r")), at: 700)
        #expect(early.runs.isEmpty)
        #expect(h.send(.fireTimer(.limitToken(key: "r")), at: 1000).runs.map(\.taskID) == [TaskID("d")])
    }

    @Test func aChangedLimitAppliesFromThenOn() {
        var h = Harness()
        _ = h.send(.setLimit(key: "k", Limit(concurrency: 1), request: h.request()), at: 0)
        h.submit(Self.plain(["a", "b", "c"], limits: ["k"]))
        #expect(h.worker(1, at: 1).runs.count == 1)
        let raised = h.send(.setLimit(key: "k", Limit(concurrency: 3), request: h.request()), at: 2)
        #expect(raised.runs.count == 2)
        #expect(
            raised.replies == [.limit(key: "k", Limit(concurrency: 3), running: 1)],
            "counted when set, before the dispatches it allows"
        )
    }

    @Test func theRunningCountsAreRebuiltByReplayAndFromACheckpoint() {
        var h = Harness()
        _ = h.send(.setLimit(key: "k", Limit(concurrency: 2), request: h.request()), at: 0)
        h.submit(Self.plain(["a", "b", "c"], limits: ["k", "j"]))
        let runs = h.worker(1, at: 1).runs
        _ = h.complete(runs[0], at: 2)
        var replayed = Coordinator()
        for event in h.journal { replayed.replay(event) }
        #expect(replayed.state == h.coordinator.state)
        #expect(replayed.state.limitRunning == ["k": 2, "j": 2])
        let restored = CoordinatorState(
            globals: h.coordinator.state.globals,
            workflows: Array(h.coordinator.state.workflows.values)
        )
        #expect(restored.limitRunning == ["k": 2, "j": 2])
        // A restart ends the open leases: nothing runs, nothing is counted.
        _ = replayed.resume(at: Instant(milliseconds: 3))
        #expect(replayed.state.limitRunning.isEmpty)
    }

    // MARK: - Fairness

    @Test func fairnessKeysTakeTurnsWithinAQueueAndPriority() {
        var h = Harness()
        h.submit(Self.tasks((0..<6).map { ("a\($0)", "h", [], "big") }, id: "big"))
        h.submit(Self.tasks((0..<2).map { ("b\($0)", "h", [], "small") }, id: "small"))
        var order: [String] = []
        var decision = h.worker(1, concurrency: 1, at: 0)
        var now: Int64 = 1
        while let run = decision.runs.first {
            order.append(run.taskID.rawValue)
            decision = h.complete(run, at: now)
            now += 1
        }
        #expect(order == ["a0", "b0", "a1", "b1", "a2", "a3", "a4", "a5"])
    }

    @Test func priorityStillComesBeforeFairness() {
        var h = Harness()
        var urgent = TaskSpec(id: "u", handler: "h", priority: 5)
        urgent.fairnessKey = "big"
        h.submit(Self.tasks([("a", "h", [], "big")], id: "one"))
        h.submit(WorkflowSpec(name: "flow", id: WorkflowID("two"), tasks: [urgent]))
        h.submit(Self.tasks([("b", "h", [], "small")], id: "three"))
        #expect(h.worker(1, at: 0).runs.map(\.taskID) == [TaskID("u"), TaskID("b"), TaskID("a")])
    }
}
