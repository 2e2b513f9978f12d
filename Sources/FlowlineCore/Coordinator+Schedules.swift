extension Coordinator {
    /// The most fires a catch-up (`all`) starts at once: a minutely schedule down for a year would otherwise start
    /// half a million workflows in one turn.
    static let maxCatchupFires = 1_000

    mutating func createSchedule(
        _ spec: ScheduleSpec,
        request: RequestID,
        at now: Instant,
        into decision: inout Decision
    ) {
        if let existing = state.schedules[spec.id] {
            let answer: Reply =
                existing.spec.isSameDefinition(as: spec)
                ? .scheduleCreated(spec.id, created: false) : .failure(.scheduleIDInUse(spec.id))
            reply(request, answer, into: &decision)
            return
        }
        let expression: CronExpression
        do {
            expression = try CronExpression(parsing: spec.cron)
        } catch {
            reply(request, .failure(.invalid(SpecError(path: "cron", message: error.message))), into: &decision)
            return
        }
        guard let zone = zones[spec.timezone] else {
            let error = SpecError(path: "timezone", message: "is not a time zone of the tz database")
            reply(request, .failure(.invalid(error)), into: &decision)
            return
        }
        let next = spec.paused ? nil : expression.nextFire(after: now, in: zone)
        record(.scheduleCreated(spec, nextFire: next, at: now), into: &decision)
        reply(request, .scheduleCreated(spec.id, created: true), into: &decision)
        if let next { decision.effects.append(.armTimer(.schedule(spec.id), at: next)) }
    }

    mutating func schedule(
        _ action: ScheduleAction,
        id: String,
        request: RequestID,
        at now: Instant,
        into decision: inout Decision
    ) {
        guard let schedule = state.schedules[id] else {
            reply(request, .failure(.unknownSchedule(id)), into: &decision)
            return
        }
        switch action {
        case .delete:
            record(.scheduleDeleted(id, at: now), into: &decision)
            reply(request, .ok, into: &decision)
        case .pause:
            if !schedule.paused { record(.schedulePaused(id, paused: true, nextFire: nil, at: now), into: &decision) }
            replySchedule(id, request: request, into: &decision)
        case .unpause:
            if schedule.paused {
                // From now on: fires missed while paused are not caught up.
                let next = zones[schedule.spec.timezone].flatMap { schedule.expression.nextFire(after: now, in: $0) }
                record(.schedulePaused(id, paused: false, nextFire: next, at: now), into: &decision)
                if let next { decision.effects.append(.armTimer(.schedule(id), at: next)) }
            }
            replySchedule(id, request: request, into: &decision)
        case .trigger:
            // At once, whatever `overlap` says; the id carries the time to the millisecond.
            let run = schedule.runID(at: now, trigger: true)
            let created = state.workflows[run] == nil
            if created {
                record(
                    .scheduleFired(id, scheduled: now, run: run, nextFire: schedule.nextFireAt, at: now),
                    into: &decision
                )
                startRun(run, of: schedule, at: now, into: &decision)
            }
            reply(request, .submitted(run, created: created), into: &decision)
        }
    }

    private func replySchedule(_ id: String, request: RequestID, into decision: inout Decision) {
        guard let schedule = state.schedules[id] else { return }
        reply(request, .schedule(schedule, running: schedule.running(in: state)), into: &decision)
    }

    /// Handles the fires of schedule `id` that are due at `now`: every one when the timer fired on time (normally
    /// one), or, for fires `missed` while the daemon was down, those its `catchup` asks for. Each fire handled is
    /// journaled with the next fire, so none is handled twice, across a restart too.
    mutating func fireSchedule(_ id: String, missed: Bool, at now: Instant, into decision: inout Decision) {
        guard let schedule = state.schedules[id], !schedule.paused, let first = schedule.nextFireAt, first <= now
        else { return }
        let zone = zones[schedule.spec.timezone]
        var due = [first]
        var next: Instant? = nil
        while let z = zone, let n = schedule.expression.nextFire(after: due[due.count - 1], in: z) {
            if n > now {
                next = n
                break
            }
            if due.count == Self.maxCatchupFires {
                next = schedule.expression.nextFire(after: now, in: z)
                break
            }
            due.append(n)
        }
        var fires = due
        if missed {
            switch schedule.spec.catchup {
            case .none: fires = []
            case .one: fires = [due[due.count - 1]]
            case .all: break
            }
        }
        if fires.isEmpty {
            record(
                .scheduleFired(id, scheduled: due[due.count - 1], run: nil, nextFire: next, at: now),
                into: &decision
            )
        }
        for (i, time) in fires.enumerated() {
            let after = i + 1 < fires.count ? fires[i + 1] : next
            fire(id, scheduled: time, nextFire: after, at: now, into: &decision)
        }
        if let next { decision.effects.append(.armTimer(.schedule(id), at: next)) }
    }

    /// One fire, as `overlap` says.
    private mutating func fire(
        _ id: String,
        scheduled: Instant,
        nextFire: Instant?,
        at now: Instant,
        into decision: inout Decision
    ) {
        guard let schedule = state.schedules[id] else { return }
        let running = schedule.running(in: state)
        let run = schedule.runID(at: scheduled, trigger: false)
        var start = state.workflows[run] == nil
        switch schedule.spec.overlap {
        case .skip: if !running.isEmpty { start = false }
        case .allow: break
        case .cancelPrevious:
            guard start else { break }
            for previous in running where state.workflows[previous]?.state == .running {
                let reason = "cancelled by the schedule's next run"
                end(
                    previous,
                    with: .workflowCancelled(previous, reason: reason, revert: false, at: now),
                    reason: reason,
                    at: now,
                    into: &decision
                )
            }
        }
        record(
            .scheduleFired(id, scheduled: scheduled, run: start ? run : nil, nextFire: nextFire, at: now),
            into: &decision
        )
        if start { startRun(run, of: schedule, at: now, into: &decision) }
    }

    /// Submits the schedule's template as workflow `run`.
    private mutating func startRun(
        _ run: WorkflowID,
        of schedule: Schedule,
        at now: Instant,
        into decision: inout Decision
    ) {
        var spec = schedule.spec.workflow
        spec.id = run
        state.admit(spec, id: run, at: now, built: nil)
        decision.events.append(.workflowSubmitted(spec, at: now))
        armStart(run, spec: spec, at: now, into: &decision)
    }

    /// After replay: the fires missed while the daemon was down, as each schedule's `catchup` says, then a timer
    /// for each schedule's next fire.
    mutating func resumeSchedules(at now: Instant, into decision: inout Decision) {
        for id in state.schedules.keys.sorted() {
            guard let schedule = state.schedules[id], !schedule.paused, let next = schedule.nextFireAt else {
                continue
            }
            if next <= now {
                fireSchedule(id, missed: true, at: now, into: &decision)
            } else {
                decision.effects.append(.armTimer(.schedule(id), at: next))
            }
        }
    }
}
