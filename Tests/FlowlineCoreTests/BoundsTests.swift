import FlowlineCore
import FlowlineTestSupport
import Testing

/// SPEC §7's bounds as rules of the core: name lengths in validation, spawn depth, the kept-futures cap. Each
/// refusal is -32602 with a path, and changes nothing.
struct BoundsTests {
    static let long = String(repeating: "n", count: SpecLimits.maxNameBytes + 1)
    static let longest = String(repeating: "n", count: SpecLimits.maxNameBytes)

    static let cases: [(String, WorkflowSpec, String)] = [
        ("workflow id", WorkflowSpec(name: "w", id: WorkflowID(long), tasks: [TaskSpec(id: "a", handler: "h")]), "id"),
        ("workflow name", WorkflowSpec(name: long, tasks: [TaskSpec(id: "a", handler: "h")]), "name"),
        ("task id", WorkflowSpec(name: "w", tasks: [TaskSpec(id: long, handler: "h")]), "tasks[0].id"),
        ("handler", WorkflowSpec(name: "w", tasks: [TaskSpec(id: "a", handler: long)]), "tasks[0].handler"),
        ("queue", WorkflowSpec(name: "w", tasks: [TaskSpec(id: "a", handler: "h", queue: long)]), "tasks[0].queue"),
        ("revert", WorkflowSpec(name: "w", tasks: [TaskSpec(id: "a", handler: "h", revert: long)]), "tasks[0].revert"),
        (
            "multi-byte handler",
            WorkflowSpec(name: "w", tasks: [TaskSpec(id: "a", handler: String(repeating: "é", count: 513))]),
            "tasks[0].handler"
        ),
    ]

    @Test("a name past 1,024 bytes is refused with its path", arguments: cases)
    func aLongNameIsRefused(name: String, spec: WorkflowSpec, path: String) {
        let error = spec.validate()
        #expect(error?.path == path, "\(name): \(String(describing: error))")
        #expect(error?.message.contains("1024") == true, "\(name): \(String(describing: error))")
    }

    @Test func namesOf1024BytesPass() {
        let task = TaskSpec(id: Self.longest, handler: Self.longest, queue: Self.longest, revert: Self.longest)
        let spec = WorkflowSpec(name: Self.longest, id: WorkflowID(Self.longest), tasks: [task])
        #expect(spec.validate() == nil)
        #expect(SpecLimits.maxNameBytes == 1024)
    }

    // MARK: - Spawn depth

    /// Spawns one task under the running one, `levels` times; returns the last run and the harness.
    private func spawnChain(levels: Int) -> (Harness, WorkflowID, TaskRun) {
        var h = Harness()
        _ = h.worker(1)
        let (w, d) = h.submit(.single(), at: 0)
        var run = d.runs[0]
        for level in 1...levels {
            let spawned = h.send(
                .spawn(
                    run.lease,
                    tasks: [TaskSpec(id: "s", handler: "h")],
                    output: "s",
                    from: WorkerID(1),
                    request: nil
                ),
                at: Int64(level)
            )
            run = spawned.runs[0]
        }
        return (h, w, run)
    }

    @Test func spawnDepthIsCountedFromTheSubmittedDocument() {
        #expect(SpecLimits.maxSpawnDepth == 32)
        var (h, w, run) = spawnChain(levels: 32)
        #expect(run.taskID.rawValue.split(separator: "/").count == 33, "32 levels below the submitted task")
        let journaled = h.journal.count
        let refused = h.send(
            .spawn(
                run.lease,
                tasks: [TaskSpec(id: "s", handler: "h")],
                output: "s",
                from: WorkerID(1),
                request: RequestID(99)
            ),
            at: 100
        )
        guard case .failure(.invalid(let error))? = refused.replies.first else {
            Issue.record("the 33rd level was not refused: \(refused.replies)")
            return
        }
        #expect(error.path == "tasks")
        #expect(error.message.contains("32"))
        #expect(refused.events.isEmpty && h.journal.count == journaled, "a refused spawn changes nothing")
        #expect(h.task(w, run.taskID.rawValue).state == .running, "the lease stays open")
        _ = h.complete(run, result: "7", at: 101)
        #expect(h.workflow(w).state == .completed && h.task(w, "only").result == RawJSON("7"))
    }

    @Test func spawnDepthNeedsNoStateAndHoldsAfterReplay() {
        let (h, _, run) = spawnChain(levels: 32)
        var replayed = Coordinator()
        for event in h.journal { replayed.replay(event) }
        #expect(replayed.state == h.coordinator.state)
        _ = replayed.resume(at: Instant(milliseconds: 50))
        // The open lease was given back at resume; the deepest task runs again and still may not spawn.
        let rerun = replayed.handle(
            .connectWorker(WorkerID(2), name: "w2", queues: ["default"], concurrency: 1),
            at: Instant(milliseconds: 60)
        ).runs
        #expect(rerun.map(\.taskID) == [run.taskID])
        let refused = replayed.handle(
            .spawn(
                rerun[0].lease,
                tasks: [TaskSpec(id: "s", handler: "h")],
                output: "s",
                from: WorkerID(2),
                request: RequestID(1)
            ),
            at: Instant(milliseconds: 70)
        )
        guard case .failure(.invalid(let error))? = refused.replies.first else {
            Issue.record("not refused after replay: \(refused.replies)")
            return
        }
        #expect(error.path == "tasks")
    }

    // MARK: - Kept futures

    @Test func aResolutionPastTheCapIsRefusedAndChangesNothing() {
        var h = Harness()
        h.coordinator.maxKeptFutures = 2
        for (i, key) in ["a", "b"].enumerated() {
            let kept = h.send(.resolve(key: key, .resolved(.null), request: RequestID(UInt64(i))), at: 0)
            #expect(kept.replies == [.matched(0)])
        }
        let journaled = h.journal.count
        for outcome in [FutureOutcome.resolved(.null), .rejected(TaskError(type: "no", message: "no"))] {
            let refused = h.send(.resolve(key: "c", outcome, request: RequestID(9)), at: 1)
            guard case .failure(.invalid(let error))? = refused.replies.first else {
                Issue.record("a third kept resolution was not refused: \(refused.replies)")
                continue
            }
            #expect(error.path == "key")
            #expect(error.message.contains("2") && error.message.contains("--max-kept-futures"), "\(error.message)")
            #expect(refused.events.isEmpty && refused.timers.isEmpty)
        }
        #expect(h.journal.count == journaled)
        #expect(Set(h.coordinator.state.keptFutures.keys) == ["a", "b"])
        // A key already kept keeps nothing more, so it is no refusal.
        #expect(h.send(.resolve(key: "a", .resolved(.null), request: RequestID(10)), at: 2).replies == [.matched(0)])
    }

    @Test func aResolutionThatFindsWaitersIsNeverRefused() {
        var h = Harness()
        h.coordinator.maxKeptFutures = 1
        _ = h.worker(1)
        _ = h.send(.resolve(key: "kept", .resolved(.null), request: RequestID(1)), at: 0)
        let (w, d) = h.submit(.single(), at: 1)
        _ = h.send(.await(d.runs[0].lease, .key("job", timeout: nil), from: WorkerID(1), request: nil), at: 2)
        let matched = h.send(.resolve(key: "job", .resolved(RawJSON("3")), request: RequestID(2)), at: 3)
        #expect(matched.replies == [.matched(1)])
        #expect(h.task(w, "only").result == RawJSON("3"))
    }

    @Test func theKeptCountIsTheJournalsAfterReplay() {
        var h = Harness()
        h.coordinator.maxKeptFutures = 2
        _ = h.worker(1)
        _ = h.send(.resolve(key: "a", .resolved(.null), request: RequestID(1)), at: 0)
        _ = h.send(.resolve(key: "b", .resolved(.null), request: RequestID(2)), at: 0)
        var replayed = Coordinator()
        replayed.maxKeptFutures = 2
        for event in h.journal { replayed.replay(event) }
        _ = replayed.resume(at: Instant(milliseconds: 1))
        let refused = replayed.handle(.resolve(key: "c", .resolved(.null), request: RequestID(3)), at: .zero)
        #expect(refused.events.isEmpty)
        guard case .failure(.invalid)? = refused.replies.first else {
            Issue.record("not refused after replay: \(refused.replies)")
            return
        }
        // An await uses a kept one up, which makes room again.
        let run = replayed.handle(
            .connectWorker(WorkerID(1), name: "w", queues: ["default"], concurrency: 1),
            at: Instant(milliseconds: 2)
        ).runs
        #expect(run.isEmpty)
        let submitted = replayed.handle(.submit(.single(), request: RequestID(4)), at: Instant(milliseconds: 3)).runs
        _ = replayed.handle(
            .await(submitted[0].lease, .key("a", timeout: nil), from: WorkerID(1), request: nil),
            at: Instant(milliseconds: 4)
        )
        #expect(replayed.state.keptFutures.count == 1)
        let kept = replayed.handle(
            .resolve(key: "c", .resolved(.null), request: RequestID(5)),
            at: Instant(milliseconds: 5)
        )
        #expect(kept.replies == [.matched(0)])
    }

    @Test func theDefaultCapIsAMillion() {
        #expect(Coordinator().maxKeptFutures == 1_000_000)
    }
}
