import FlowlineCore
import FlowlineTestSupport
import Testing

struct CheckpointTests {
    /// A checkpoint taken at any point, restored, and followed by the events after it, rebuilds the live state.
    @Test(arguments: [7, 99] as [UInt64])
    func restoringACheckpointThenReplayingTheRestMatchesLive(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        var h = Harness()
        var points: [(events: Int, state: CoordinatorState)] = []
        var open: [TaskRun] = []
        for step in 0..<300 {
            let now = Int64(step * 50)
            let d: Decision
            switch Int.random(in: 0..<6, using: &random) {
            case 0:
                let spec = WorkflowSpec(
                    name: "c",
                    tasks: [
                        TaskSpec(id: "a", handler: "h", revert: "undo"), TaskSpec(id: "b", handler: "h", deps: ["a"]),
                    ]
                )
                d = h.send(.submit(spec, request: h.request()), at: now)
            case 1: d = h.worker(UInt64.random(in: 1...2, using: &random), concurrency: 3, at: now)
            case 2:
                guard let run = open.popLast() else { continue }
                d = h.complete(run, by: 1, result: "\(step)", at: now)
            case 3:
                guard let run = open.popLast() else { continue }
                d = h.send(
                    .await(run.lease, .key("k\(step % 3)", timeout: nil), from: WorkerID(1), request: nil),
                    at: now
                )
            case 4: d = h.send(.resolve(key: "k\(step % 3)", .resolved(RawJSON("1")), request: h.request()), at: now)
            default:
                guard let run = open.popLast() else { continue }
                d = h.fail(run, by: 1, retryable: false, at: now)
            }
            open += d.runs
            points.append((h.journal.count, h.coordinator.state))
        }
        let final = h.coordinator.state
        for (count, state) in points where count % 5 == 0 {
            var restored = Coordinator(
                state: CoordinatorState(globals: state.globals, workflows: Array(state.workflows.values)),
                futureRetention: .seconds(1)
            )
            #expect(restored.state == state, "seed \(seed): the checkpoint at \(count) events restores differently")
            for event in h.journal.dropFirst(count) { restored.apply(event) }
            #expect(restored.state == final, "seed \(seed): checkpoint at \(count) + the rest differs from live")
        }
    }

    @Test func compactionDropsOnlyWorkflowsFinishedBeforeTheEdge() {
        var h = Harness()
        _ = h.worker(1)
        let (old, d1) = h.submit(.single(id: "old"), at: 0)
        _ = h.complete(d1.runs[0], at: 10)
        let (_, d2) = h.submit(.single(id: "new"), at: 20)
        _ = h.complete(d2.runs[0], at: 1000)
        h.submit(.single(id: "running", queue: "nobody"), at: 30)
        let compacted = h.send(.compact(finishedBefore: Instant(milliseconds: 500), limit: 100), at: 2000)
        #expect(compacted.events == [.workflowsCompacted([old], at: Instant(milliseconds: 2000))])
        #expect(h.coordinator.state.order.map(\.rawValue) == ["new", "running"])
    }

    /// Recovery replays without keeping queues and rebuilds them in `resume`; the result must be what applying
    /// every event and resuming gives.
    @Test func replayingWithoutQueuesThenResumingMatchesApplying() {
        var h = Harness()
        _ = h.worker(1, concurrency: 2)
        for i in 0..<6 { h.submit(.chain(length: 3, id: "c\(i)"), at: Int64(i)) }
        h.submit(.single(id: "hi", priority: 9), at: 10)
        var applied = Coordinator()
        var replayed = Coordinator()
        for event in h.journal {
            applied.apply(event)
            replayed.replay(event)
        }
        let a = applied.resume(at: Instant(milliseconds: 100))
        let b = replayed.resume(at: Instant(milliseconds: 100))
        #expect(a == b)
        #expect(applied.state == replayed.state)
        let order = { (c: inout Coordinator) in
            c.handle(
                .connectWorker(WorkerID(5), name: "n", queues: ["default"], concurrency: 20),
                at: Instant(milliseconds: 200)
            )
            .runs.map(\.workflowID)
        }
        #expect(order(&applied) == order(&replayed))
    }
}
