import FlowlineCore
import FlowlineTestSupport
import Testing

struct FutureTransitionTests {
    @Test func awaitFreesTheSlotAndAResolveCompletesEveryWaiter() {
        var h = Harness()
        _ = h.worker(1, concurrency: 1)
        let (a, d1) = h.submit(.single(id: "a"), at: 0)
        let awaited = h.send(
            .await(d1.runs[0].lease, .key("job", timeout: nil), from: WorkerID(1), request: RequestID(1)),
            at: 1
        )
        #expect(awaited.replies == [.ok])
        #expect(h.task(a, "only").state == .waiting)
        let (b, d2) = h.submit(.single(id: "b"), at: 2)
        #expect(d2.runs.count == 1, "the waiting task no longer holds the worker's one slot")
        _ = h.send(.await(d2.runs[0].lease, .key("job", timeout: nil), from: WorkerID(1), request: nil), at: 3)
        let resolved = h.send(.resolve(key: "job", .resolved(RawJSON("7")), request: RequestID(2)), at: 4)
        #expect(resolved.replies == [.matched(2)])
        #expect(h.workflow(a).state == .completed && h.workflow(b).state == .completed)
        #expect(h.task(a, "only").result == RawJSON("7"))
        #expect(h.coordinator.state.keyWaiters.isEmpty)
    }

    @Test func anEarlyResolutionIsKeptOnceAndUsedUp() {
        var h = Harness()
        _ = h.worker(1)
        #expect(
            h.send(.resolve(key: "k", .resolved(RawJSON("1")), request: RequestID(1)), at: 0).replies == [.matched(0)]
        )
        _ = h.send(.resolve(key: "k", .resolved(RawJSON("2")), request: RequestID(2)), at: 1)
        #expect(
            h.coordinator.state.keptFutures["k"]?.outcome == .resolved(RawJSON("1")),
            "a later resolution of a kept key is ignored"
        )
        let (w, d) = h.submit(.single(), at: 2)
        _ = h.send(.await(d.runs[0].lease, .key("k", timeout: nil), from: WorkerID(1), request: nil), at: 3)
        #expect(h.task(w, "only").result == RawJSON("1"))
        #expect(h.coordinator.state.keptFutures["k"] == nil)
    }

    @Test func keptResolutionsExpireAfterTheRetention() {
        var h = Harness()
        h.coordinator.futureRetention = .seconds(10)
        let kept = h.send(.resolve(key: "k", .resolved(.null), request: RequestID(1)), at: 0)
        #expect(kept.timers[.futureExpiry(key: "k")] == Instant(milliseconds: 10_000))
        #expect(h.send(.fireTimer(.futureExpiry(key: "k")), at: 9_999).events.isEmpty)
        _ = h.send(.fireTimer(.futureExpiry(key: "k")), at: 10_000)
        #expect(h.coordinator.state.keptFutures.isEmpty)
    }

    @Test func sleepWakesWithNullAndPollRunsUntilDone() {
        var h = Harness()
        _ = h.worker(1)
        let (w, d) = h.submit(.single(), at: 0)
        let slept = h.send(.await(d.runs[0].lease, .sleep(.seconds(5)), from: WorkerID(1), request: nil), at: 10)
        #expect(slept.timers[.wake(w, TaskID("only"), n: 1)] == Instant(milliseconds: 5010))
        _ = h.send(.fireTimer(.wake(w, TaskID("only"), n: 1)), at: 5010)
        #expect(h.task(w, "only").state == .completed && h.task(w, "only").result == .null)

        let (p, d2) = h.submit(.single(id: "p"), at: 6000)
        let poll = Future.poll(handler: "check", input: RawJSON("{\"q\":1}"), interval: .seconds(1), timeout: nil)
        let first = h.send(.await(d2.runs[0].lease, poll, from: WorkerID(1), request: nil), at: 6001)
        #expect(first.runs.map(\.kind) == [.poll])
        #expect(first.runs[0].handler == "check" && first.runs[0].input == RawJSON("{\"q\":1}"))
        let notYet = h.send(
            .complete(
                first.runs[0].lease,
                result: .null,
                poll: PollAnswer(done: false, result: .null),
                from: WorkerID(1),
                request: nil
            ),
            at: 6100
        )
        #expect(notYet.timers[.wake(p, TaskID("only"), n: 1)] == Instant(milliseconds: 7100))
        let second = h.send(.fireTimer(.wake(p, TaskID("only"), n: 1)), at: 7100)
        _ = h.send(
            .complete(
                second.runs[0].lease,
                result: .null,
                poll: PollAnswer(done: true, result: RawJSON("9")),
                from: WorkerID(1),
                request: nil
            ),
            at: 7200
        )
        #expect(h.task(p, "only").result == RawJSON("9") && h.task(p, "only").attempts == 1)
    }

    @Test func aFutureTimeoutFailsTheAttempt() {
        var h = Harness()
        _ = h.worker(1)
        let (w, d) = h.submit(.single(retry: RetryPolicy(maxAttempts: 2)), at: 0)
        let armed = h.send(
            .await(d.runs[0].lease, .key("k", timeout: .seconds(3)), from: WorkerID(1), request: nil),
            at: 0
        )
        #expect(armed.timers[.awaitTimeout(w, TaskID("only"), n: 1)] == Instant(milliseconds: 3000))
        _ = h.send(.fireTimer(.awaitTimeout(w, TaskID("only"), n: 1)), at: 3000)
        #expect(h.task(w, "only").state == .ready && h.task(w, "only").error?.type == "timeout")
        #expect(h.send(.resolve(key: "k", .resolved(.null), request: RequestID(5)), at: 3001).replies == [.matched(0)])
    }

    @Test func spawnedTasksRunAndTheParentTakesTheOutputsResult() {
        var h = Harness()
        _ = h.worker(1, concurrency: 4)
        let (w, d) = h.submit(.chain(length: 2), at: 0)
        let tasks = [
            TaskSpec(id: "a", handler: "h"), TaskSpec(id: "b", handler: "h"),
            TaskSpec(id: "sum", handler: "h", deps: ["a", "b"]),
        ]
        let spawned = h.send(
            .spawn(d.runs[0].lease, tasks: tasks, output: "sum", from: WorkerID(1), request: RequestID(1)),
            at: 1
        )
        #expect(spawned.replies == [.ok])
        #expect(Set(spawned.runs.map(\.taskID)) == [TaskID("t0/a"), TaskID("t0/b")])
        #expect(h.task(w, "t0").state == .waiting)
        _ = h.complete(spawned.runs[0], at: 2)
        let sum = h.complete(spawned.runs[1], at: 3).runs[0]
        #expect(sum.taskID == TaskID("t0/sum") && sum.deps.map(\.0) == [TaskID("t0/a"), TaskID("t0/b")])
        let next = h.complete(sum, result: "42", at: 4)
        #expect(h.task(w, "t0").result == RawJSON("42"))
        #expect(next.runs.map(\.taskID) == [TaskID("t1")])
        #expect(next.runs[0].deps.map(\.1) == [RawJSON("42")])
    }

    @Test func revertsRunOneAtATimeInReverseCompletionOrder() {
        var h = Harness()
        _ = h.worker(1, concurrency: 4)
        let spec = WorkflowSpec(
            name: "r",
            tasks: [
                TaskSpec(id: "a", handler: "a", revert: "undo_a"), TaskSpec(id: "b", handler: "b", revert: "undo_b"),
                TaskSpec(id: "c", handler: "c", deps: ["a", "b"]),
            ]
        )
        let (w, d) = h.submit(spec, at: 0)
        let b = d.runs.first { $0.taskID == TaskID("b") }!
        let a = d.runs.first { $0.taskID == TaskID("a") }!
        _ = h.complete(b, at: 1)
        let c = h.complete(a, at: 2).runs[0]
        let failed = h.fail(c, retryable: false, at: 3)
        #expect(h.workflow(w).state == .reverting)
        #expect(failed.runs.map(\.handler) == ["undo_a"], "a completed last, so it reverts first, alone")
        #expect(failed.runs[0].kind == .revert)
        let next = h.complete(failed.runs[0], at: 4)
        #expect(next.runs.map(\.handler) == ["undo_b"])
        _ = h.complete(next.runs[0], at: 5)
        #expect(h.workflow(w).state == .failed && h.workflow(w).reverted)
    }

    @Test func aWorkflowTimeoutDoesNotCutItsRevertsShort() {
        var h = Harness()
        _ = h.worker(1)
        var spec = WorkflowSpec(
            name: "t",
            tasks: [
                TaskSpec(id: "a", handler: "a", revert: "undo_a"), TaskSpec(id: "b", handler: "b", deps: ["a"]),
            ]
        )
        spec.timeout = .seconds(10)
        let (w, d) = h.submit(spec, at: 0)
        let b = h.complete(d.runs[0], at: 1).runs[0]
        let undo = h.fail(b, retryable: false, at: 2).runs[0]
        #expect(h.workflow(w).state == .reverting)
        #expect(h.send(.fireTimer(.workflowTimeout(w)), at: 10_000).events.isEmpty)
        _ = h.complete(undo, at: 10_001)
        #expect(h.workflow(w).state == .failed && h.workflow(w).reverted)
    }
    @Test func anEarlierAwaitsTimersDoNotReachATaskWaitingOnItsSpawn() {
        var h = Harness()
        _ = h.worker(1)
        let (w, d) = h.submit(.single(retry: RetryPolicy(maxAttempts: 2)), at: 0)
        _ = h.send(.await(d.runs[0].lease, .key("k", timeout: .seconds(3)), from: WorkerID(1), request: nil), at: 10)
        _ = h.send(.resolve(key: "k", .rejected(TaskError(type: "no", message: "no")), request: RequestID(1)), at: 20)
        let second = h.send(.fireTimer(.retry(w, TaskID("only"))), at: 1020).runs[0]
        let spawned = h.send(
            .spawn(
                second.lease,
                tasks: [TaskSpec(id: "child", handler: "c")],
                output: "child",
                from: WorkerID(1),
                request: nil
            ),
            at: 1100
        )
        #expect(h.task(w, "only").state == .waiting)
        let stale = h.send(.fireTimer(.awaitTimeout(w, TaskID("only"), n: 1)), at: 3010)
        #expect(stale.events.isEmpty, "the first await's timeout belongs to an attempt that is over")
        #expect(h.task(w, "only").state == .waiting)
        var restarted = Coordinator()
        for event in h.journal { restarted.replay(event) }
        #expect(restarted.resume(at: Instant(milliseconds: 3020)).timers.isEmpty)
        _ = h.complete(spawned.runs[0], result: "5", at: 3100)
        #expect(h.workflow(w).state == .completed && h.task(w, "only").result == RawJSON("5"))
    }

    @Test func aRejectionThatFailsTheWorkflowDoesNotSettleItsCancelledSiblings() {
        var h = Harness()
        _ = h.worker(1)
        let spec = WorkflowSpec(name: "two", tasks: [TaskSpec(id: "a", handler: "a"), TaskSpec(id: "b", handler: "b")])
        let (w, d) = h.submit(spec, at: 0)
        for run in d.runs {
            _ = h.send(.await(run.lease, .key("k", timeout: nil), from: WorkerID(1), request: nil), at: 1)
        }
        let rejected = h.send(
            .resolve(
                key: "k",
                .rejected(TaskError(type: "no", message: "no", retryable: false)),
                request: RequestID(9)
            ),
            at: 2
        )
        let ends = rejected.events.filter { if case .workflowFailed = $0 { true } else { false } }
        #expect(ends.count == 1, "the workflow ends once")
        #expect(h.task(w, "a").state == .failed && h.task(w, "b").state == .cancelled)
        #expect(h.workflow(w).state == .failed && h.workflow(w).unfinished == 0)
        #expect(rejected.replies == [.matched(1)])
    }

    @Test func aSpawnedOutputThatFailsSkipsItsOwnDownstreamToo() {
        var h = Harness()
        _ = h.worker(1, concurrency: 4)
        let (w, d) = h.submit(.chain(length: 2), at: 0)
        let tasks = [TaskSpec(id: "out", handler: "h"), TaskSpec(id: "after", handler: "h", deps: ["out"])]
        let spawned = h.send(
            .spawn(d.runs[0].lease, tasks: tasks, output: "out", from: WorkerID(1), request: nil),
            at: 1
        )
        _ = h.fail(spawned.runs[0], retryable: false, at: 2)
        #expect(h.task(w, "t0/out").state == .failed && h.task(w, "t0").state == .failed)
        #expect(h.task(w, "t1").state == .skipped, "downstream of the spawning task, which failed with its output")
        #expect(h.task(w, "t0/after").state == .skipped, "downstream of the output, which failed for good")
        #expect(h.workflow(w).state == .failed)
    }

    @Test func aMalformedPollAnswerIsRefusedAndFailsThePoll() {
        var h = Harness()
        _ = h.worker(1)
        let (w, d) = h.submit(.single(retry: RetryPolicy(maxAttempts: 2, backoff: .milliseconds(10))), at: 0)
        let poll = Future.poll(handler: "check", input: .emptyObject, interval: .seconds(1), timeout: nil)
        let first = h.send(.await(d.runs[0].lease, poll, from: WorkerID(1), request: nil), at: 1).runs[0]
        let bad = h.send(
            .complete(first.lease, result: RawJSON("7"), poll: nil, from: WorkerID(1), request: RequestID(9)),
            at: 2
        )
        #expect(bad.replies.count == 1)
        #expect(h.task(w, "only").state == .ready && h.task(w, "only").error?.type == "bad_poll_answer")
        #expect(h.coordinator.state.leases.isEmpty, "the poll's lease does not stay open")
    }

    @Test func aSpawningTaskFailsWhenItsOutputTimesOut() {
        var h = Harness()
        _ = h.worker(1)
        let (w, d) = h.submit(.single(), at: 0)
        let spawned = h.send(
            .spawn(
                d.runs[0].lease,
                tasks: [TaskSpec(id: "o", handler: "h", timeout: .seconds(1))],
                output: "o",
                from: WorkerID(1),
                request: nil
            ),
            at: 1
        )
        _ = h.send(.fireTimer(.leaseTimeout(spawned.runs[0].lease)), at: 1001)
        #expect(h.task(w, "only/o").state == .timedOut)
        #expect(h.task(w, "only").state == .failed && h.task(w, "only").error?.type == "output_failed")
        #expect(h.workflow(w).state == .failed)
    }
}
