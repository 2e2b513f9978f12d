import FlowlineCore
import FlowlineTestSupport
import Testing

struct CoordinatorTests {
    @Test func submitJournalsTheWorkflowAndWaitsForAWorker() {
        var h = Harness()
        let (id, decision) = h.submit(.diamond(id: "d1"))
        #expect(decision.events.count == 1)
        #expect(decision.runs.isEmpty)
        #expect(h.task(id, "step1").state == .ready)
        #expect(h.task(id, "step2").state == .blocked)
        let connected = h.worker(1)
        #expect(connected.runs.map(\.taskID) == [TaskID("step1")])
        #expect(h.task(id, "step1").state == .running)
        #expect(h.task(id, "step1").attempts == 1)
    }

    @Test func completionPassesResultsAlongTheDiamond() {
        var h = Harness()
        _ = h.worker(1)
        let (id, first) = h.submit(.diamond(), at: 0)
        let afterStep1 = h.complete(first.runs[0], result: "\"r1\"", at: 10)
        #expect(Set(afterStep1.runs.map(\.taskID)) == [TaskID("step2"), TaskID("step3")])
        #expect(afterStep1.runs[0].deps.map(\.1) == [RawJSON("\"r1\"")])
        _ = h.complete(afterStep1.runs[0], result: "2", at: 20)
        let afterBoth = h.complete(afterStep1.runs[1], result: "3", at: 30)
        let step4 = try! #require(afterBoth.runs.first)
        #expect(step4.taskID == TaskID("step4"))
        #expect(step4.deps.map(\.0) == [TaskID("step2"), TaskID("step3")])
        let done = h.complete(step4, result: "4", at: 40)
        #expect(done.events.last == .workflowCompleted(id, at: Instant(milliseconds: 40)))
        #expect(h.workflow(id).state == .completed)
        #expect(h.workflow(id).sinkResults.map(\.0) == [TaskID("step4")])
    }

    @Test func idempotentSubmitStartsNothingNew() {
        var h = Harness()
        h.submit(.single(id: "same"))
        let again = h.send(.submit(.single(id: "same"), request: RequestID(99)), at: 5)
        #expect(again.events.isEmpty)
        #expect(again.effects == [.reply(RequestID(99), .submitted(WorkflowID("same"), created: false))])
    }

    @Test func generatedIDsAreUnique() {
        var h = Harness()
        let (a, _) = h.submit(.single())
        let (b, _) = h.submit(.single())
        #expect(a != b)
    }

    @Test func retryWaitsForBackoffThenRunsTheNextAttempt() {
        var h = Harness()
        _ = h.worker(1)
        let retry = RetryPolicy(maxAttempts: 3, backoff: .seconds(1), multiplier: 2, maxBackoff: .seconds(60))
        let (id, d1) = h.submit(.single(retry: retry), at: 0)
        let f1 = h.fail(d1.runs[0], at: 100)
        #expect(f1.timers[.retry(id, TaskID("only"))] == Instant(milliseconds: 1100))
        #expect(h.task(id, "only").state == .ready)
        #expect(h.task(id, "only").retryAt == Instant(milliseconds: 1100))
        #expect(f1.runs.isEmpty)
        let early = h.send(.fireTimer(.retry(id, TaskID("only"))), at: 1000)
        #expect(early.events.isEmpty)
        let d2 = h.send(.fireTimer(.retry(id, TaskID("only"))), at: 1100)
        #expect(d2.runs.map(\.attempt) == [2])
        let f2 = h.fail(d2.runs[0], at: 1200)
        #expect(f2.timers[.retry(id, TaskID("only"))] == Instant(milliseconds: 3200))
        let d3 = h.send(.fireTimer(.retry(id, TaskID("only"))), at: 3200)
        _ = h.complete(d3.runs[0], result: "\"third\"", at: 3300)
        #expect(h.workflow(id).state == .completed)
        #expect(h.task(id, "only").attempts == 3)
    }

    @Test func finalFailureSkipsDownstreamAndCancelsTheRest() {
        var h = Harness()
        _ = h.worker(1)
        let (id, d1) = h.submit(.diamond(), at: 0)
        let d2 = h.complete(d1.runs[0], at: 10)
        let step2 = d2.runs.first { $0.taskID == TaskID("step2") }!
        let failed = h.fail(step2, retryable: false, at: 20)
        #expect(h.task(id, "step2").state == .failed)
        #expect(h.task(id, "step4").state == .skipped)
        #expect(h.task(id, "step3").state == .cancelled)
        #expect(failed.cancels == [TaskID("step3")])
        #expect(h.workflow(id).state == .failed)
        #expect(h.workflow(id).error?.type == "boom")
    }

    @Test func noAttemptLeftFailsEvenWhenRetryable() {
        var h = Harness()
        _ = h.worker(1)
        let (id, d1) = h.submit(.single(), at: 0)
        _ = h.fail(d1.runs[0], at: 5)
        #expect(h.workflow(id).state == .failed)
    }

    @Test func timeoutEndsTheLeaseAndTheTaskTimesOut() {
        var h = Harness()
        _ = h.worker(1)
        let (id, d1) = h.submit(.single(timeout: .seconds(2)), at: 0)
        let lease = d1.runs[0].lease
        #expect(d1.timers[.leaseTimeout(lease)] == Instant(milliseconds: 2000))
        #expect(d1.runs[0].deadline == Instant(milliseconds: 2000))
        let fired = h.send(.fireTimer(.leaseTimeout(lease)), at: 2000)
        #expect(fired.cancels == [TaskID("only")])
        #expect(h.task(id, "only").state == .timedOut)
        #expect(h.workflow(id).state == .failed)
        let late = h.complete(d1.runs[0], at: 2100)
        #expect(late.events.isEmpty)
        #expect(late.replies == [.failure(.staleLease)])
    }

    @Test func missedHeartbeatLosesTheWorkerButHeartbeatsKeepTheLease() {
        var h = Harness()
        _ = h.worker(1)
        let retry = RetryPolicy(maxAttempts: 2)
        let (id, d1) = h.submit(.single(retry: retry, heartbeat: .seconds(1)), at: 0)
        let lease = d1.runs[0].lease
        let beat = h.send(.heartbeat(lease, progress: RawJSON("0.5"), from: WorkerID(1), request: nil), at: 900)
        #expect(beat.timers[.heartbeat(lease)] == Instant(milliseconds: 1900))
        #expect(h.task(id, "only").progress == RawJSON("0.5"))
        #expect(h.send(.fireTimer(.heartbeat(lease)), at: 1000).events.isEmpty)
        let lost = h.send(.fireTimer(.heartbeat(lease)), at: 1900)
        #expect(
            lost.events.first.map { if case .taskAttemptFailed(_, _, let e, _, _) = $0 { e.type } else { "" } }
                == "worker_lost"
        )
        #expect(h.task(id, "only").state == .ready)
    }

    @Test func staleAndForeignLeasesAreFenced() {
        var h = Harness()
        _ = h.worker(1)
        _ = h.worker(2)
        let (_, d1) = h.submit(.single(), at: 0)
        let foreign = h.complete(d1.runs[0], by: 2, at: 1)
        #expect(foreign.events.isEmpty && foreign.replies == [.failure(.staleLease)])
        let unknown = h.send(
            .complete(LeaseID(999), result: .null, poll: nil, from: WorkerID(1), request: RequestID(1)),
            at: 2
        )
        #expect(unknown.replies == [.failure(.staleLease)])
        let notification = h.send(
            .complete(LeaseID(999), result: .null, poll: nil, from: WorkerID(1), request: nil),
            at: 2
        )
        #expect(notification.effects.isEmpty)
    }

    @Test func disconnectRetriesTheWorkersTasksElsewhere() {
        var h = Harness()
        _ = h.worker(1, concurrency: 1)
        let (id, d1) = h.submit(.single(retry: RetryPolicy(maxAttempts: 2, backoff: .milliseconds(50))), at: 0)
        _ = h.worker(2, concurrency: 1, at: 1)
        let gone = h.send(.disconnect(WorkerID(1)), at: 10)
        #expect(gone.cancels.isEmpty)
        #expect(h.task(id, "only").error?.type == "worker_lost")
        let again = h.send(.fireTimer(.retry(id, TaskID("only"))), at: 60)
        #expect(again.runs.map(\.attempt) == [2])
        #expect(again.effects.contains { if case .runTask(WorkerID(2), _) = $0 { true } else { false } })
        #expect(d1.runs.count == 1)
    }

    /// The round-robin over a queue's workers (`QueueWorkers`): full workers are passed over, the cursor moves past
    /// a worker only when it gets a run, and a turn with no free slot leaves the task queued for the next free one.
    @Test func dispatchGoesRoundRobinOverWorkersWithFreeSlots() {
        var h = Harness()
        _ = h.worker(1, concurrency: 1)
        _ = h.worker(2, concurrency: 1)
        _ = h.worker(3, concurrency: 2)
        _ = h.worker(4, queues: ["other"], concurrency: 5)
        func workers(of d: Decision) -> [UInt64] {
            d.effects.compactMap { if case .runTask(let w, _) = $0 { w.rawValue } else { nil } }
        }
        var runs: [TaskRun] = []
        var sequence: [UInt64] = []
        for n in 1...5 {
            let (_, d) = h.submit(.single(id: "w\(n)"), at: Int64(n))
            sequence += workers(of: d)
            runs += d.runs
        }
        #expect(sequence == [1, 2, 3, 3], "the fifth waits: every slot is taken")
        #expect(h.task(WorkflowID("w5"), "only").state == .ready)
        let freed = h.complete(runs[1], by: 2, at: 10)
        #expect(workers(of: freed) == [2])
        #expect(freed.runs.map(\.workflowID) == [WorkflowID("w5")])
        _ = h.complete(runs[0], by: 1, at: 11)
        let (_, next) = h.submit(.single(id: "w6"), at: 12)
        #expect(workers(of: next) == [1], "the cursor is past worker 2, which ran w5, and worker 3 is full")
    }

    @Test func creditBoundsTasksInFlightPerWorker() {
        var h = Harness()
        _ = h.worker(1, concurrency: 2)
        let spec = WorkflowSpec(name: "fan", tasks: (0..<5).map { TaskSpec(id: "t\($0)", handler: "h") })
        let (_, d) = h.submit(spec)
        #expect(d.runs.count == 2)
        let next = h.complete(d.runs[0], at: 1)
        #expect(next.runs.count == 1)
        #expect(h.coordinator.workers[0].running.count == 2)
    }

    @Test func higherPriorityRunsFirstThenFIFO() {
        var h = Harness()
        h.submit(.single(id: "low1", priority: 0))
        h.submit(.single(id: "high", priority: 5))
        h.submit(.single(id: "low2", priority: 0))
        let d = h.worker(1, concurrency: 3)
        #expect(d.runs.map(\.workflowID.rawValue) == ["high", "low1", "low2"])
    }

    @Test func queuesOnlyReachTheirWorkers() {
        var h = Harness()
        _ = h.worker(1, queues: ["gpu"])
        let (_, d) = h.submit(.single(queue: "cpu"))
        #expect(d.runs.isEmpty)
        #expect(h.worker(2, queues: ["cpu"]).runs.count == 1)
    }

    @Test func cancelEndsEverythingAndAnswersWaiters() {
        var h = Harness()
        _ = h.worker(1)
        let (id, _) = h.submit(.diamond(), at: 0)
        let waiting = h.send(.wait(id, timeout: nil, request: RequestID(500)), at: 1)
        #expect(waiting.effects.isEmpty)
        let cancelled = h.send(.cancel(id, reason: "stop", revert: false, request: RequestID(501)), at: 2)
        #expect(cancelled.cancels == [TaskID("step1")])
        #expect(h.workflow(id).state == .cancelled)
        #expect(h.workflow(id).tasks.allSatisfy { $0.state == .cancelled })
        #expect(cancelled.replies.count == 2)
        let again = h.send(.cancel(id, reason: "again", revert: false, request: RequestID(502)), at: 3)
        #expect(again.events.isEmpty)
    }

    @Test func waitTimesOutWithTheRecordAsItStands() {
        var h = Harness()
        let (id, _) = h.submit(.single(), at: 0)
        let armed = h.send(.wait(id, timeout: .seconds(1), request: RequestID(7)), at: 0)
        #expect(armed.timers[.waitTimeout(RequestID(7))] == Instant(milliseconds: 1000))
        let answered = h.send(.fireTimer(.waitTimeout(RequestID(7))), at: 1000)
        #expect(answered.replies.count == 1)
        let unknown = h.send(.wait(WorkflowID("nope"), timeout: nil, request: RequestID(8)), at: 0)
        #expect(unknown.replies == [.failure(.unknownWorkflow(WorkflowID("nope")))])
    }

    @Test func workflowTimeoutEndsIt() {
        var h = Harness()
        _ = h.worker(1)
        var spec = WorkflowSpec.chain(length: 3)
        spec.timeout = .seconds(5)
        let (id, d) = h.submit(spec, at: 0)
        #expect(d.timers[.workflowTimeout(id)] == Instant(milliseconds: 5000))
        let fired = h.send(.fireTimer(.workflowTimeout(id)), at: 5000)
        #expect(h.workflow(id).state == .timedOut)
        #expect(fired.cancels == [TaskID("t0")])
    }

    @Test func resumeGivesBackOpenLeasesWithoutUsingAttempts() {
        var h = Harness()
        _ = h.worker(1)
        let (id, _) = h.submit(.single(retry: RetryPolicy(maxAttempts: 1)), at: 0)
        var restarted = Coordinator()
        for event in h.journal { restarted.apply(event) }
        let resumed = restarted.resume(at: Instant(milliseconds: 100))
        #expect(resumed.events == [.leaseReleased(id, TaskID("only"), at: Instant(milliseconds: 100))])
        #expect(restarted.state.workflows[id]!.tasks[0].attempts == 0)
        let run = restarted.handle(
            .connectWorker(WorkerID(9), name: "again", queues: ["default"], concurrency: 1),
            at: Instant(milliseconds: 200)
        )
        #expect(run.runs.map(\.attempt) == [1])
    }

    @Test func resumeRearmsRetryAndWorkflowTimers() {
        var h = Harness()
        _ = h.worker(1)
        var spec = WorkflowSpec.single(retry: RetryPolicy(maxAttempts: 2))
        spec.timeout = .seconds(60)
        let (id, d) = h.submit(spec, at: 0)
        _ = h.fail(d.runs[0], at: 10)
        var restarted = Coordinator()
        for event in h.journal { restarted.apply(event) }
        let resumed = restarted.resume(at: Instant(milliseconds: 20))
        #expect(resumed.timers[.retry(id, TaskID("only"))] == Instant(milliseconds: 1010))
        #expect(resumed.timers[.workflowTimeout(id)] == Instant(milliseconds: 60000))
    }
    @Test func aCompactedWorkflowsQueuedRunsDoNotReachItsSuccessor() {
        var h = Harness()
        let three = WorkflowSpec(
            name: "three",
            id: WorkflowID("w"),
            tasks: ["a", "b", "c"].map { TaskSpec(id: $0, handler: $0, queue: "q") }
        )
        let (w, _) = h.submit(three, at: 0)
        _ = h.send(.cancel(w, reason: "no", revert: false, request: h.request()), at: 1)
        let compacted = h.send(.compact(finishedBefore: Instant(milliseconds: 10), limit: 10), at: 10)
        #expect(compacted.events == [.workflowsCompacted([w], at: Instant(milliseconds: 10))])
        _ = h.submit(.single(id: "w", queue: "q"), at: 20)
        let runs = h.worker(1, queues: ["q"], at: 30).runs
        #expect(runs.map(\.taskID) == [TaskID("only")], "the old workflow's stale entries are dropped, not followed")
    }
}
