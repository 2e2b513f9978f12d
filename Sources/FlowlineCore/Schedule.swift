/// What a schedule does when a fire comes while an earlier run is still running (SPEC §11).
public enum ScheduleOverlap: String, Hashable, Sendable, CaseIterable {
    case skip
    case allow
    case cancelPrevious = "cancel_previous"
}

/// Which fires missed while the daemon was down run when it starts again (SPEC §11).
public enum ScheduleCatchup: String, Hashable, Sendable, CaseIterable {
    case none
    case one
    case all
}

/// A `schedule.create` document, decoded and checked.
public struct ScheduleSpec: Hashable, Sendable {
    public var id: String
    public var cron: String
    /// An IANA zone name; its rules come from the shell (`Coordinator.zones`).
    public var timezone: String
    /// The template each run is submitted as (its `id` is set per run).
    public var workflow: WorkflowSpec
    /// The template as written, shown in records and compared (as a JSON value) for an idempotent create.
    public var template: RawJSON
    public var overlap: ScheduleOverlap
    public var catchup: ScheduleCatchup
    public var paused: Bool

    public init(
        id: String,
        cron: String,
        timezone: String = "UTC",
        workflow: WorkflowSpec,
        template: RawJSON,
        overlap: ScheduleOverlap = .skip,
        catchup: ScheduleCatchup = .one,
        paused: Bool = false
    ) {
        self.id = id
        self.cron = cron
        self.timezone = timezone
        self.workflow = workflow
        self.template = template
        self.overlap = overlap
        self.catchup = catchup
        self.paused = paused
    }

    /// Whether `other` defines the same schedule: the template compared as a JSON value.
    public func isSameDefinition(as other: ScheduleSpec) -> Bool {
        id == other.id && cron == other.cron && timezone == other.timezone && overlap == other.overlap
            && catchup == other.catchup && paused == other.paused && template.isEquivalent(to: other.template)
    }
}

/// A schedule as the coordinator knows it: durable, rebuilt by replay.
public struct Schedule: Hashable, Sendable {
    public var spec: ScheduleSpec
    public var expression: CronExpression
    public var paused: Bool
    /// The next fire, journaled when computed (nil while paused, or when the expression never fires again).
    public var nextFireAt: Instant?
    /// The scheduled time of the last run started (a trigger's time for a trigger).
    public var lastFireAt: Instant?
    /// Runs started and not seen ended at the last fire; `running(in:)` filters them.
    public var runs: [WorkflowID] = []

    public init(spec: ScheduleSpec, expression: CronExpression, nextFireAt: Instant?) {
        self.spec = spec
        self.expression = expression
        self.paused = spec.paused
        self.nextFireAt = nextFireAt
    }

    /// The runs still running.
    public func running(in state: CoordinatorState) -> [WorkflowID] {
        runs.filter { state.workflows[$0].map { !$0.state.isTerminal } ?? false }
    }

    /// The id of the run for the fire at `time`: `SCHEDULE_ID@2026-12-08T09:00:00Z`; a trigger's carries
    /// milliseconds.
    public func runID(at time: Instant, trigger: Bool) -> WorkflowID {
        WorkflowID(spec.id + "@" + time.utcText(milliseconds: trigger))
    }
}

extension CoordinatorState {
    /// The schedules, by id.
    public var scheduleList: [Schedule] { schedules.values.sorted { $0.spec.id < $1.spec.id } }
}
