import FlowlineCore
import FlowlineTestSupport
import Testing

/// The shell waits on a monotonic clock and fires a timer with the deadline it was armed for; the wall clock `now`
/// may then be anywhere. The coordinator only checks that the deadline is still the current one.
struct TimerArmingTests {
    @Test func aTimerFiredWithItsDeadlineActsWhateverTheWallClockSays() {
        var h = Harness()
        _ = h.worker(1)
        let (id, d) = h.submit(.single(retry: RetryPolicy(maxAttempts: 2), heartbeat: .seconds(1)), at: 0)
        let lease = d.runs[0].lease
        let beat = h.send(.heartbeat(lease, progress: nil, from: WorkerID(1), request: nil), at: 900)
        let current = beat.timers[.heartbeat(lease)]!
        // The wall clock went back an hour: the first timer is stale (a heartbeat came), the current one is due.
        let back: Int64 = 900 - 3_600_000
        let stale = h.send(.fireTimer(.heartbeat(lease), armedFor: Instant(milliseconds: 1000)), at: back)
        #expect(stale.events.isEmpty)
        let lost = h.send(.fireTimer(.heartbeat(lease), armedFor: current), at: back)
        #expect(
            lost.events.first.map { if case .taskAttemptFailed(_, _, let e, _, _) = $0 { e.type } else { "" } }
                == "worker_lost"
        )
        let retryAt = lost.timers[.retry(id, TaskID("only"))]!
        // The wall clock went forward an hour: a retry timer that is not the task's current one does nothing.
        let ahead: Int64 = 3_600_000
        let early = h.send(.fireTimer(.retry(id, TaskID("only")), armedFor: Instant(milliseconds: 5)), at: ahead)
        #expect(early.events.isEmpty)
        let requeued = h.send(.fireTimer(.retry(id, TaskID("only")), armedFor: retryAt), at: back)
        #expect(requeued.runs.map(\.taskID) == [TaskID("only")])
    }

    /// After a restart a timer waits until its persisted deadline, but at most its own length: a wall clock set
    /// back while the daemon was down holds it back by no more than that.
    @Test func resumeCapsEachTimersWaitAtItsLength() {
        var h = Harness()
        _ = h.worker(1)
        var spec = WorkflowSpec.single(retry: RetryPolicy(maxAttempts: 2, backoff: .seconds(3)))
        spec.timeout = .seconds(60)
        let (id, d) = h.submit(spec, at: 0)
        _ = h.fail(d.runs[0], at: 10)
        var restarted = Coordinator()
        for event in h.journal { restarted.apply(event) }
        let resumed = restarted.resume(at: Instant(milliseconds: -3_600_000))
        var caps: [TimerID: Duration?] = [:]
        for case .armTimer(let timer, _, let atMost) in resumed.effects { caps[timer] = atMost }
        #expect(caps[.retry(id, TaskID("only"))] == .some(.seconds(3)))
        #expect(caps[.workflowTimeout(id)] == .some(.seconds(60)))
    }
}
