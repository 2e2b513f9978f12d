import FlowlineTestSupport
import Testing

@testable import FlowlineCore

/// The counts a full walk of the state finds, to hold the incremental `workflowCounts` and `taskCounts` to.
func expectCountsMatchRecount(_ s: CoordinatorState, _ context: @autoclosure () -> String) {
    var workflows: [WorkflowState: Int] = [:]
    var tasks: [TaskState: Int] = [:]
    for workflow in s.workflows.values {
        workflows[workflow.state, default: 0] += 1
        for task in workflow.tasks { tasks[task.state, default: 0] += 1 }
    }
    for state in WorkflowState.allCases where s.workflowCounts[state] != workflows[state] ?? 0 {
        Issue.record(
            "\(context()): \(s.workflowCounts[state]) workflows \(state), a recount finds \(workflows[state] ?? 0)"
        )
    }
    for state in TaskState.allCases where s.taskCounts[state] != tasks[state] ?? 0 {
        Issue.record("\(context()): \(s.taskCounts[state]) tasks \(state), a recount finds \(tasks[state] ?? 0)")
    }
}

struct StateCountTests {
    @Test func ordinalsArePositionsInAllCases() {
        #expect(TaskState.allCases.map(\.ordinal) == Array(TaskState.allCases.indices))
        #expect(WorkflowState.allCases.map(\.ordinal) == Array(WorkflowState.allCases.indices))
    }

    @Test("the counts equal a recount after every step, replay and checkpoint", arguments: [1, 2, 3, 42] as [UInt64])
    func countsEqualARecount(seed: UInt64) {
        var points: [(events: Int, state: CoordinatorState)] = []
        let (h, now) = Harness.randomRun(seed: seed, steps: 800) {
            expectCountsMatchRecount($0.coordinator.state, "seed \(seed) after \($0.journal.count) events")
            points.append(($0.journal.count, $0.coordinator.state))
        }
        let live = h.coordinator.state
        #expect(live.taskCounts[.completed] > 0, "seed \(seed): the run should complete tasks")

        var applied = Coordinator()
        var replayed = Coordinator()
        var stepped = Coordinator()
        for event in h.journal {
            applied.apply(event)
            replayed.replay(event)
            var step = ReplayStep(event)
            stepped.replay(&step)
        }
        expectCountsMatchRecount(applied.state, "seed \(seed) after apply")
        #expect(applied.state.workflowCounts == live.workflowCounts, "seed \(seed): apply")
        #expect(applied.state.taskCounts == live.taskCounts, "seed \(seed): apply")
        // `resume` gives back the leases open at the end, so these differ from the live counts there.
        let at = Instant(milliseconds: now + 1)
        _ = replayed.resume(at: at)
        _ = stepped.resume(at: at)
        for (name, c) in [("replay", replayed), ("replay steps", stepped)] {
            expectCountsMatchRecount(c.state, "seed \(seed) after \(name) and resume")
        }
        #expect(stepped.state.taskCounts == replayed.state.taskCounts, "seed \(seed)")
        #expect(stepped.state.workflowCounts == replayed.state.workflowCounts, "seed \(seed)")

        for (count, state) in points where count % 7 == 0 {
            var restored = Coordinator(
                state: CoordinatorState(globals: state.globals, workflows: Array(state.workflows.values)),
                futureRetention: .seconds(1)
            )
            expectCountsMatchRecount(restored.state, "seed \(seed): checkpoint at \(count) events")
            #expect(restored.state.taskCounts == state.taskCounts, "seed \(seed): checkpoint at \(count) events")
            for event in h.journal.dropFirst(count) { restored.apply(event) }
            expectCountsMatchRecount(restored.state, "seed \(seed): checkpoint at \(count) events + the rest")
            #expect(restored.state.taskCounts == live.taskCounts, "seed \(seed): checkpoint at \(count) + the rest")
        }
    }

    @Test func compactionUncountsTheWorkflowsItDrops() {
        var h = Harness()
        let (w, d) = h.submit(WorkflowSpec(name: "one", tasks: [TaskSpec(id: "a", handler: "h")]), at: 0)
        _ = d
        let runs = h.worker(1, concurrency: 1, at: 1).runs
        _ = h.complete(runs[0], at: 2)
        #expect(h.workflow(w).state == .completed)
        #expect(h.coordinator.state.workflowCounts[.completed] == 1)
        #expect(h.coordinator.state.taskCounts[.completed] == 1)
        _ = h.send(.compact(finishedBefore: Instant(milliseconds: 10), limit: 10), at: 10)
        #expect(h.coordinator.state.workflows.isEmpty)
        expectCountsMatchRecount(h.coordinator.state, "after compaction")
        #expect(h.coordinator.state.workflowCounts[.completed] == 0)
        #expect(h.coordinator.state.taskCounts[.completed] == 0)
    }
}
