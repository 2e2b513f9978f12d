import FlowlineCore
import FlowlineTestSupport
import Testing

/// SPEC §11's second chances, one rule per test: trigger rules, `revert_on_failure`, a workflow's `retry`, reruns
/// and the bulk operations. Each test also replays its journal and checks that the fold rebuilds the live state.
struct SecondChanceTests {
    private static let boom = TaskError(type: "boom", message: "it broke", retryable: false)

    /// `a` → `b`, and `cleanup` (with `rule`) after `a`; `c` runs beside them.
    private static func withCleanup(_ rule: RunIf, id: String = "wf", revertOnFailure: Bool = false) -> WorkflowSpec {
        WorkflowSpec(
            name: "cleanup",
            id: WorkflowID(id),
            tasks: [
                TaskSpec(
                    id: "a",
                    handler: "a",
                    revert: revertOnFailure ? "undo_a" : nil,
                    revertOnFailure: revertOnFailure
                ),
                TaskSpec(id: "b", handler: "b", deps: ["a"]),
                TaskSpec(id: "cleanup", handler: "cleanup", deps: ["a"], runIf: rule),
                TaskSpec(id: "c", handler: "c"),
            ]
        )
    }

    /// Replaying the journal rebuilds the live state, and so does a checkpoint taken after any prefix of it,
    /// restored, followed by the rest.
    private func expectReplayMatches(_ h: Harness, sourceLocation: SourceLocation = #_sourceLocation) {
        for count in 0...h.journal.count {
            var prefix = Coordinator()
            for event in h.journal.prefix(count) { prefix.apply(event) }
            var restored = Coordinator(
                state: CoordinatorState(globals: prefix.state.globals, workflows: Array(prefix.state.workflows.values)),
                futureRetention: .seconds(1)
            )
            for event in h.journal.dropFirst(count) { restored.apply(event) }
            #expect(
                restored.state == h.coordinator.state,
                "a checkpoint after \(count) events and the rest differ from live",
                sourceLocation: sourceLocation
            )
        }
    }

    private func run(_ d: Decision, _ t: String) -> TaskRun? { d.runs.first { $0.taskID == TaskID(t) } }

    @Test func allDoneRunsAfterAFailedDepWithItsErrorWhileTheRestIsCancelled() throws {
        var h = Harness()
        _ = h.worker(1)
        let (id, d1) = h.submit(Self.withCleanup(.allDone))
        let a = try #require(run(d1, "a"))
        let failed = h.send(.fail(a.lease, error: Self.boom, from: WorkerID(1), request: nil), at: 10)
        #expect(h.task(id, "b").state == .skipped)
        #expect(h.task(id, "c").state == .cancelled)
        #expect(failed.cancels == [TaskID("c")])
        #expect(h.workflow(id).state == .running)
        let cleanup = try #require(run(failed, "cleanup"))
        #expect(cleanup.depErrors?.map(\.0) == [TaskID("a")])
        #expect(cleanup.depErrors?.map(\.1) == [Self.boom])
        #expect(cleanup.deps.map(\.1) == [.null])
        let done = h.complete(cleanup, at: 20)
        #expect(h.workflow(id).state == .failed)
        #expect(h.workflow(id).error == Self.boom)
        #expect(h.task(id, "cleanup").state == .completed)
        #expect(done.events.last == .workflowFailed(id, TaskID("a"), error: Self.boom, at: Instant(milliseconds: 20)))
        expectReplayMatches(h)
    }

    @Test func anyFailedIsSkippedWhenEveryDepCompleted() throws {
        var h = Harness()
        _ = h.worker(1)
        let (id, d1) = h.submit(Self.withCleanup(.anyFailed))
        let afterA = h.complete(try #require(run(d1, "a")), at: 10)
        #expect(h.task(id, "cleanup").state == .skipped)
        #expect(run(afterA, "cleanup") == nil)
        _ = h.complete(try #require(run(afterA, "b")), at: 20)
        _ = h.complete(try #require(run(d1, "c")), at: 30)
        #expect(h.workflow(id).state == .completed)
        expectReplayMatches(h)
    }

    @Test func anyFailedRunsOnATimedOutDepButNotOnACancelledOne() throws {
        var h = Harness()
        _ = h.worker(1)
        let (id, d1) = h.submit(Self.withCleanup(.anyFailed))
        let timeout = TaskError(type: "timeout", message: "too slow")
        let failed = h.send(
            .fail(try #require(run(d1, "a")).lease, error: timeout, from: WorkerID(1), request: nil),
            at: 10
        )
        #expect(h.task(id, "a").state == .timedOut)
        let cleanup = try #require(run(failed, "cleanup"))
        #expect(cleanup.depErrors?.map(\.1) == [timeout])
        _ = h.complete(cleanup, at: 20)
        #expect(h.workflow(id).state == .failed)

        // `d` fails while `x` runs: `x` is cancelled, and `after_x` (any_failed on x alone) is cancelled with it,
        // never run: a cancelled dep is no failure.
        var g = Harness()
        _ = g.worker(1)
        let spec = WorkflowSpec(
            name: "cancelled",
            id: WorkflowID("c"),
            tasks: [
                TaskSpec(id: "d", handler: "d"),
                TaskSpec(id: "x", handler: "x"),
                TaskSpec(id: "after_x", handler: "after", deps: ["x"], runIf: .anyFailed),
            ]
        )
        let (c, e1) = g.submit(spec)
        let end = g.send(
            .fail(try #require(run(e1, "d")).lease, error: Self.boom, from: WorkerID(1), request: nil),
            at: 10
        )
        #expect(end.runs.isEmpty)
        #expect(g.task(c, "x").state == .cancelled)
        #expect(g.task(c, "after_x").state == .cancelled)
        #expect(g.workflow(c).state == .failed)
        expectReplayMatches(h)
        expectReplayMatches(g)
    }

    @Test func aTaskWaitingOnRunningDepsKeepsThemRunning() throws {
        // `notify` (all_done) waits on `a` and `slow`: when `a` fails, `slow` is not cancelled, and `notify` runs
        // once it ends.
        var h = Harness()
        _ = h.worker(1)
        let spec = WorkflowSpec(
            name: "notify",
            id: WorkflowID("n"),
            tasks: [
                TaskSpec(id: "a", handler: "a"),
                TaskSpec(id: "slow", handler: "slow"),
                TaskSpec(id: "notify", handler: "notify", deps: ["a", "slow"], runIf: .allDone),
            ]
        )
        let (id, d1) = h.submit(spec)
        let failed = h.send(
            .fail(try #require(run(d1, "a")).lease, error: Self.boom, from: WorkerID(1), request: nil),
            at: 10
        )
        #expect(failed.cancels.isEmpty)
        #expect(h.task(id, "slow").state == .running)
        let afterSlow = h.complete(try #require(run(d1, "slow")), result: "7", at: 20)
        let notify = try #require(run(afterSlow, "notify"))
        #expect(notify.deps.map(\.1) == [.null, RawJSON("7")])
        #expect(notify.depErrors?.map(\.0) == [TaskID("a")])
        _ = h.complete(notify, at: 30)
        #expect(h.workflow(id).state == .failed)
        expectReplayMatches(h)
    }

    @Test func revertOnFailureRevertsTheFailedTaskFirstWithItsError() throws {
        var h = Harness()
        _ = h.worker(1)
        let spec = WorkflowSpec(
            name: "flow",
            id: WorkflowID("r"),
            tasks: [
                TaskSpec(id: "volume", handler: "volume", revert: "undo_volume"),
                TaskSpec(
                    id: "attach",
                    handler: "attach",
                    deps: ["volume"],
                    revert: "undo_attach",
                    revertOnFailure: true
                ),
            ]
        )
        let (id, d1) = h.submit(spec)
        let d2 = h.complete(try #require(run(d1, "volume")), result: "\"vol-1\"", at: 10)
        let failed = h.send(
            .fail(try #require(run(d2, "attach")).lease, error: Self.boom, from: WorkerID(1), request: nil),
            at: 20
        )
        let undoAttach = try #require(failed.runs.first)
        #expect(undoAttach.kind == .revert)
        #expect(undoAttach.handler == "undo_attach")
        #expect(undoAttach.result == .null)
        #expect(undoAttach.error == Self.boom)
        let next = h.complete(undoAttach, at: 30)
        #expect(h.task(id, "attach").state == .reverted)
        let undoVolume = try #require(next.runs.first)
        #expect(undoVolume.handler == "undo_volume")
        #expect(undoVolume.result == RawJSON("\"vol-1\""))
        #expect(undoVolume.error == nil)
        _ = h.complete(undoVolume, at: 40)
        #expect(h.workflow(id).state == .failed)
        #expect(h.workflow(id).reverted)
        expectReplayMatches(h)
    }

    private static func retried(maxAttempts: Int) -> WorkflowSpec {
        WorkflowSpec(
            name: "retried",
            id: WorkflowID("t"),
            retry: RetryPolicy(maxAttempts: maxAttempts, backoff: .seconds(1)),
            tasks: [
                TaskSpec(id: "make", handler: "make", revert: "unmake"),
                TaskSpec(id: "use", handler: "use", deps: ["make"]),
            ]
        )
    }

    @Test func aWorkflowRetryRevertsThenRunsEverythingAgainAndWaitAnswersAtTheEnd() throws {
        var h = Harness()
        _ = h.worker(1)
        let (id, d1) = h.submit(Self.retried(maxAttempts: 2))
        #expect(h.workflow(id).attempt == 1)
        let waiter = h.request()
        _ = h.send(.wait(id, timeout: nil, request: waiter), at: 1)
        let d2 = h.complete(try #require(run(d1, "make")), result: "1", at: 10)
        let failed = h.fail(try #require(run(d2, "use")), at: 20)
        let unmake = try #require(failed.runs.first)
        #expect(unmake.kind == .revert)
        let reverted = h.complete(unmake, at: 30)
        #expect(reverted.replies == [.ok])
        #expect(h.workflow(id).state == .running)
        #expect(h.workflow(id).retryAt == Instant(milliseconds: 1030))
        #expect(reverted.timers[.workflowRetry(id)] == Instant(milliseconds: 1030))
        #expect(h.send(.fireTimer(.workflowRetry(id)), at: 1000).events.isEmpty)
        let again = h.send(.fireTimer(.workflowRetry(id)), at: 1030)
        #expect(h.workflow(id).attempt == 2)
        #expect(h.task(id, "make").state == .running)
        #expect(h.task(id, "use").state == .blocked)
        #expect(h.task(id, "use").result == nil)
        let make2 = try #require(run(again, "make"))
        #expect(make2.attempt == 2)
        let d3 = h.complete(make2, result: "2", at: 1040)
        let failedAgain = h.fail(try #require(run(d3, "use")), at: 1050)
        let done = h.complete(try #require(failedAgain.runs.first), at: 1060)
        #expect(h.workflow(id).state == .failed)
        #expect(done.effects.contains { if case .reply(waiter, .workflow) = $0 { true } else { false } })
        expectReplayMatches(h)
    }

    @Test func aFailureThatIsNotRetryableEndsTheWorkflowWithoutARetry() throws {
        var h = Harness()
        _ = h.worker(1)
        let (id, d1) = h.submit(Self.retried(maxAttempts: 3))
        let d2 = h.complete(try #require(run(d1, "make")), at: 10)
        let failed = h.fail(try #require(run(d2, "use")), retryable: false, at: 20)
        _ = h.complete(try #require(failed.runs.first), at: 30)
        #expect(h.workflow(id).state == .failed)
        #expect(h.workflow(id).retryAt == nil)
        #expect(h.workflow(id).attempt == 1)
        expectReplayMatches(h)
    }

    @Test func rerunPutsBackWhatDidNotCompleteWithAFreshBudgetAndKeepsTheRest() throws {
        var h = Harness()
        _ = h.worker(1)
        let (id, d1) = h.submit(.diamond(id: "d"))
        let d2 = h.complete(try #require(run(d1, "step1")), result: "1", at: 10)
        _ = h.complete(try #require(run(d2, "step3")), result: "3", at: 20)
        _ = h.fail(try #require(run(d2, "step2")), at: 30)
        #expect(h.workflow(id).state == .failed)
        #expect(h.task(id, "step4").state == .skipped)

        let request = h.request()
        let rerun = h.send(.rerun(id, from: [], request: request), at: 40)
        #expect(rerun.events.first == .workflowRerun(id, from: [], at: Instant(milliseconds: 40)))
        #expect(h.workflow(id).state == .running)
        #expect(h.workflow(id).attempt == 1)
        #expect(h.task(id, "step1").result == RawJSON("1"))
        #expect(h.task(id, "step3").state == .completed)
        #expect(h.task(id, "step4").state == .blocked)
        let step2 = try #require(run(rerun, "step2"))
        #expect(step2.attempt == 2)
        #expect(step2.deps.map(\.1) == [RawJSON("1")])
        #expect(rerun.replies.contains { if case .workflow(let w) = $0 { w.state == .running } else { false } })
        let d3 = h.complete(step2, result: "2", at: 50)
        let step4 = try #require(run(d3, "step4"))
        _ = h.complete(step4, at: 60)
        #expect(h.workflow(id).state == .completed)
        expectReplayMatches(h)

        // `from` puts a completed task back with everything downstream of it.
        let again = h.send(.rerun(id, from: [TaskID("step3")], request: h.request()), at: 70)
        #expect(h.task(id, "step2").state == .completed)
        #expect(h.task(id, "step4").state == .blocked)
        #expect(run(again, "step3")?.attempt == 2)
        expectReplayMatches(h)
    }

    @Test func rerunRefusesAWorkflowThatHasNotEndedAndUnknownTasks() throws {
        var h = Harness()
        let (id, _) = h.submit(.diamond(id: "d"))
        let running = h.send(.rerun(id, from: [], request: h.request()), at: 10)
        #expect(running.events.isEmpty)
        #expect(
            running.replies.contains {
                if case .failure(.invalid(let e)) = $0 { e.path == "workflow_id" } else { false }
            }
        )
        _ = h.send(.cancel(id, reason: "x", revert: false, request: h.request()), at: 20)
        let unknown = h.send(.rerun(id, from: [TaskID("nope")], request: h.request()), at: 30)
        #expect(
            unknown.replies.contains { if case .failure(.invalid(let e)) = $0 { e.path == "from[0]" } else { false } }
        )
        let missing = h.send(.rerun(WorkflowID("none"), from: [], request: h.request()), at: 30)
        #expect(missing.replies == [.failure(.unknownWorkflow(WorkflowID("none")))])
    }

    @Test func rerunPutsBackRevertedWorkAndSpawnedTasksGoWithTheirSpawner() throws {
        var h = Harness()
        _ = h.worker(1)
        let spec = WorkflowSpec(
            name: "spawned",
            id: WorkflowID("s"),
            tasks: [
                TaskSpec(id: "prep", handler: "prep", revert: "unprep"),
                TaskSpec(id: "split", handler: "split", deps: ["prep"]),
            ]
        )
        let (id, d1) = h.submit(spec)
        let d2 = h.complete(try #require(run(d1, "prep")), at: 10)
        let split = try #require(run(d2, "split"))
        let spawned = h.send(
            .spawn(
                split.lease,
                tasks: [TaskSpec(id: "part", handler: "part")],
                output: "part",
                from: WorkerID(1),
                request: nil
            ),
            at: 20
        )
        let failed = h.fail(try #require(run(spawned, "split/part")), at: 30)
        _ = h.complete(try #require(failed.runs.first), at: 40)
        #expect(h.task(id, "prep").state == .reverted)
        let rerun = h.send(.rerun(id, from: [], request: h.request()), at: 50)
        #expect(h.workflow(id).tasks.map(\.id) == [TaskID("prep"), TaskID("split")])
        #expect(run(rerun, "prep")?.attempt == 2)
        expectReplayMatches(h)
    }

    @Test func bulkOperationsActOnWhatTheFilterMatches() throws {
        var h = Harness()
        var tagged = WorkflowSpec.diamond(id: "one")
        tagged.metadata = [MetadataEntry(key: "team", value: "etl"), MetadataEntry(key: "day", value: "mon")]
        h.submit(tagged)
        var other = WorkflowSpec.diamond(id: "two")
        other.metadata = [MetadataEntry(key: "team", value: "web")]
        h.submit(other)
        let etl = WorkflowFilter(metadata: [MetadataEntry(key: "team", value: "etl")])
        let cancelled = h.send(.cancelMany(etl, request: h.request()), at: 10)
        #expect(cancelled.replies == [.matched(1)])
        #expect(h.workflow(WorkflowID("one")).state == .cancelled)
        #expect(h.workflow(WorkflowID("two")).state == .running)
        let none = h.send(.cancelMany(etl, request: h.request()), at: 11)
        #expect(none.replies == [.matched(0)])
        let rerun = h.send(.rerunMany(WorkflowFilter(state: .cancelled), request: h.request()), at: 20)
        #expect(rerun.replies == [.matched(1)])
        #expect(h.workflow(WorkflowID("one")).state == .running)
        expectReplayMatches(h)
    }
}
