import FlowlineCore
import Testing

/// Schedules decided in the core: fires, overlap, catch-up after downtime, pause, trigger, and replay.
struct ScheduleTests {
    static let minute: Int64 = 60_000
    /// 2026-12-08T00:00:00Z.
    static let t0 = Instant.utc(year: 2026, month: 12, day: 8, seconds: 0).milliseconds

    static func spec(
        _ id: String = "s",
        cron: String = "* * * * *",
        overlap: ScheduleOverlap = .skip,
        catchup: ScheduleCatchup = .one,
        paused: Bool = false
    ) -> ScheduleSpec {
        let workflow = WorkflowSpec(name: "job", tasks: [TaskSpec(id: "only", handler: "h")])
        return ScheduleSpec(
            id: id,
            cron: cron,
            workflow: workflow,
            template: RawJSON(#"{"name":"job","tasks":[{"id":"only","handler":"h"}]}"#),
            overlap: overlap,
            catchup: catchup,
            paused: paused
        )
    }

    static func runs(_ d: Decision) -> [String] {
        d.events.compactMap { if case .workflowSubmitted(let spec, _) = $0 { spec.id?.rawValue } else { nil } }
    }

    /// Fires the schedule's timer as the shell does (with the deadline it was armed for) at `ms`.
    static func fire(_ h: inout Harness, _ id: String = "s", at ms: Int64) -> Decision {
        let armed = h.coordinator.state.schedules[id]?.nextFireAt
        return h.send(.fireTimer(.schedule(id), armedFor: armed), at: ms)
    }

    static func restart(_ h: Harness, at ms: Int64) -> (Harness, Decision) {
        var restarted = Harness()
        for event in h.journal { restarted.coordinator.replay(event) }
        restarted.journal = h.journal
        let d = restarted.coordinator.resume(at: Instant(milliseconds: ms))
        restarted.journal += d.events
        return (restarted, d)
    }

    @Test func aScheduleFiresEachMinuteWithRunIDsOfItsTimes() throws {
        var h = Harness()
        let created = h.send(.createSchedule(Self.spec(), request: h.request()), at: Self.t0 + 10_000)
        #expect(created.replies == [.scheduleCreated("s", created: true)])
        #expect(created.timers[.schedule("s")] == Instant(milliseconds: Self.t0 + Self.minute))
        let first = Self.fire(&h, at: Self.t0 + Self.minute)
        #expect(Self.runs(first) == ["s@2026-12-08T00:01:00Z"])
        #expect(first.timers[.schedule("s")] == Instant(milliseconds: Self.t0 + 2 * Self.minute))
        // A stale timer (armed for the fire just handled) does nothing.
        let stale = h.send(
            .fireTimer(.schedule("s"), armedFor: Instant(milliseconds: Self.t0 + Self.minute)),
            at: Self.t0 + Self.minute
        )
        #expect(stale.events.isEmpty)
        let schedule = try #require(h.coordinator.state.schedules["s"])
        #expect(schedule.lastFireAt == Instant(milliseconds: Self.t0 + Self.minute))
        #expect(schedule.running(in: h.coordinator.state) == [WorkflowID("s@2026-12-08T00:01:00Z")])
    }

    @Test func createIsIdempotentForTheSameDefinitionOnly() {
        var h = Harness()
        _ = h.send(.createSchedule(Self.spec(), request: h.request()), at: Self.t0)
        var same = Self.spec()
        same.template = RawJSON(#"{ "tasks":[{"handler":"h","id":"only"}], "name":"job" }"#)
        #expect(
            h.send(.createSchedule(same, request: h.request()), at: Self.t0).replies == [
                .scheduleCreated("s", created: false)
            ]
        )
        #expect(
            h.send(.createSchedule(Self.spec(cron: "@hourly"), request: h.request()), at: Self.t0).replies == [
                .failure(.scheduleIDInUse("s"))
            ]
        )
        #expect(
            h.send(.schedule(.pause, id: "nope", request: h.request()), at: Self.t0).replies == [
                .failure(.unknownSchedule("nope"))
            ]
        )
        var unknownZone = Self.spec("z")
        unknownZone.timezone = "Mars/Olympus"
        let refused = h.send(.createSchedule(unknownZone, request: h.request()), at: Self.t0)
        #expect(refused.events.isEmpty)
    }

    @Test(arguments: [ScheduleOverlap.skip, .allow, .cancelPrevious])
    func overlapDecidesWhatANewFireDoesBesideARunningRun(overlap: ScheduleOverlap) {
        var h = Harness()
        _ = h.send(.createSchedule(Self.spec(overlap: overlap), request: h.request()), at: Self.t0)
        _ = Self.fire(&h, at: Self.t0 + Self.minute)
        let second = Self.fire(&h, at: Self.t0 + 2 * Self.minute)
        let first = WorkflowID("s@2026-12-08T00:01:00Z")
        switch overlap {
        case .skip:
            #expect(Self.runs(second).isEmpty)
            #expect(h.workflow(first).state == .running)
        case .allow:
            #expect(Self.runs(second) == ["s@2026-12-08T00:02:00Z"])
            #expect(h.workflow(first).state == .running)
        case .cancelPrevious:
            #expect(Self.runs(second) == ["s@2026-12-08T00:02:00Z"])
            #expect(h.workflow(first).state == .cancelled)
        }
        // Skipped or not, the schedule moved on to the next minute.
        #expect(h.coordinator.state.schedules["s"]?.nextFireAt == Instant(milliseconds: Self.t0 + 3 * Self.minute))
    }

    @Test(arguments: [ScheduleCatchup.none, .one, .all])
    func missedFiresAfterDowntimeFollowCatchup(catchup: ScheduleCatchup) {
        var h = Harness()
        _ = h.send(
            .createSchedule(Self.spec(overlap: .allow, catchup: catchup), request: h.request()),
            at: Self.t0
        )
        // Down from before the first fire until 00:03:30: fires at 00:01, 00:02 and 00:03 were missed.
        let (restarted, d) = Self.restart(h, at: Self.t0 + 3 * Self.minute + 30_000)
        let expected: [String] =
            switch catchup {
            case .none: []
            case .one: ["s@2026-12-08T00:03:00Z"]
            case .all: ["s@2026-12-08T00:01:00Z", "s@2026-12-08T00:02:00Z", "s@2026-12-08T00:03:00Z"]
            }
        #expect(Self.runs(d) == expected)
        #expect(d.timers[.schedule("s")] == Instant(milliseconds: Self.t0 + 4 * Self.minute))
        // Restarting again at once fires nothing more: each fire handled is journaled.
        let (_, again) = Self.restart(restarted, at: Self.t0 + 3 * Self.minute + 31_000)
        #expect(Self.runs(again).isEmpty)
    }

    @Test func aFireIsNeverStartedTwiceAcrossARestart() {
        var h = Harness()
        _ = h.send(.createSchedule(Self.spec(overlap: .allow), request: h.request()), at: Self.t0)
        _ = Self.fire(&h, at: Self.t0 + Self.minute)
        // Restarted within the same minute: the fire at 00:01 is done, the next is 00:02.
        let (restarted, d) = Self.restart(h, at: Self.t0 + Self.minute + 500)
        #expect(Self.runs(d).isEmpty)
        #expect(d.timers[.schedule("s")] == Instant(milliseconds: Self.t0 + 2 * Self.minute))
        #expect(restarted.coordinator.state == h.coordinator.state)
    }

    @Test func firesMissedWhilePausedAreNotCaughtUp() {
        var h = Harness()
        _ = h.send(.createSchedule(Self.spec(catchup: .all), request: h.request()), at: Self.t0)
        let paused = h.send(.schedule(.pause, id: "s", request: h.request()), at: Self.t0 + 1000)
        if case .schedule(let record, _)? = paused.replies.first {
            #expect(record.paused && record.nextFireAt == nil)
        } else {
            Issue.record("pause did not answer the record")
        }
        #expect(Self.fire(&h, at: Self.t0 + Self.minute).events.isEmpty)
        let unpaused = h.send(.schedule(.unpause, id: "s", request: h.request()), at: Self.t0 + 5 * Self.minute + 1)
        #expect(Self.runs(unpaused).isEmpty)
        #expect(unpaused.timers[.schedule("s")] == Instant(milliseconds: Self.t0 + 6 * Self.minute))
    }

    @Test func triggerRunsAtOnceWhateverOverlapSays() {
        var h = Harness()
        _ = h.send(.createSchedule(Self.spec(), request: h.request()), at: Self.t0)
        _ = Self.fire(&h, at: Self.t0 + Self.minute)
        let triggered = h.send(.schedule(.trigger, id: "s", request: h.request()), at: Self.t0 + Self.minute + 1234)
        #expect(Self.runs(triggered) == ["s@2026-12-08T00:01:01.234Z"])
        #expect(triggered.replies == [.submitted(WorkflowID("s@2026-12-08T00:01:01.234Z"), created: true)])
        // The next regular fire is unchanged.
        #expect(h.coordinator.state.schedules["s"]?.nextFireAt == Instant(milliseconds: Self.t0 + 2 * Self.minute))
        let deleted = h.send(.schedule(.delete, id: "s", request: h.request()), at: Self.t0 + Self.minute + 2000)
        #expect(deleted.replies == [.ok])
        #expect(h.coordinator.state.schedules.isEmpty)
    }

    @Test func scheduleStateSurvivesACheckpointAndReplay() {
        var h = Harness()
        _ = h.send(.createSchedule(Self.spec(overlap: .allow), request: h.request()), at: Self.t0)
        _ = h.send(.createSchedule(Self.spec("p", paused: true), request: h.request()), at: Self.t0)
        _ = Self.fire(&h, at: Self.t0 + Self.minute)
        let state = h.coordinator.state
        let restored = CoordinatorState(globals: state.globals, workflows: Array(state.workflows.values))
        #expect(restored == state)
        var replayed = Coordinator()
        for event in h.journal { replayed.replay(event) }
        // Before the next fire: resuming rebuilds the queues and starts nothing.
        #expect(replayed.resume(at: Instant(milliseconds: Self.t0 + Self.minute + 1)).events.isEmpty)
        #expect(replayed.state == state)
    }

    @Test func startAtHoldsTheWorkflowUntilItsTime() {
        var h = Harness()
        _ = h.worker(1)
        var spec = WorkflowSpec(name: "later", id: WorkflowID("later"), tasks: [TaskSpec(id: "a", handler: "h")])
        spec.startAt = Instant(milliseconds: 10_000)
        spec.timeout = .seconds(5)
        let (id, d) = h.submit(spec, at: 1000)
        #expect(d.runs.isEmpty)
        #expect(h.workflow(id).state == .running)
        #expect(h.task(id, "a").state == .blocked)
        #expect(d.timers[.start(id)] == Instant(milliseconds: 10_000))
        // The timeout counts from start_at.
        #expect(d.timers[.workflowTimeout(id)] == Instant(milliseconds: 15_000))
        var restarted = Coordinator()
        for event in h.journal { restarted.replay(event) }
        let resumed = restarted.resume(at: Instant(milliseconds: 2000))
        #expect(resumed.timers[.start(id)] == Instant(milliseconds: 10_000))
        let started = h.send(.fireTimer(.start(id), armedFor: Instant(milliseconds: 10_000)), at: 10_000)
        #expect(started.runs.map(\.taskID) == [TaskID("a")])
        // In the past: at once.
        var past = WorkflowSpec(name: "now", tasks: [TaskSpec(id: "a", handler: "h")])
        past.startAt = Instant(milliseconds: 5)
        #expect(h.submit(past, at: 20_000).1.runs.count == 1)
    }
}
