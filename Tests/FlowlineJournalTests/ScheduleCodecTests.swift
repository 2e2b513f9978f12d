import FlowlineCore
import FlowlineJournal
import Testing

/// Schedules and `start_at` in the journal (event tags 30-34) and in checkpoints (extension tags 30-32).
struct ScheduleCodecTests {
    static let at = Instant(milliseconds: 1_795_000_000_123)

    static var schedule: ScheduleSpec {
        var workflow = WorkflowSpec(name: "job", input: RawJSON(#"{"n":1}"#), tasks: [TaskSpec(id: "a", handler: "h")])
        workflow.metadata = [MetadataEntry(key: "team", value: "data")]
        return ScheduleSpec(
            id: "nightly",
            cron: "30 2 * * MON-FRI",
            timezone: "Europe/Berlin",
            workflow: workflow,
            template: RawJSON(
                #"{"name":"job","input":{"n":1},"metadata":{"team":"data"},"tasks":[{"id":"a","handler":"h"}]}"#
            ),
            overlap: .cancelPrevious,
            catchup: .all,
            paused: true
        )
    }

    @Test func scheduleEventsSurviveEncodeAndDecode() throws {
        var delayed = WorkflowSpec(name: "later", id: WorkflowID("later"), tasks: [TaskSpec(id: "a", handler: "h")])
        delayed.startAt = Instant(milliseconds: 1_795_000_100_000)
        let events: [Event] = [
            .scheduleCreated(Self.schedule, nextFire: Self.at, at: Self.at),
            .scheduleCreated(Self.schedule, nextFire: nil, at: Self.at),
            .scheduleDeleted("nightly", at: Self.at),
            .schedulePaused("nightly", paused: false, nextFire: Self.at, at: Self.at),
            .scheduleFired("nightly", scheduled: Self.at, run: WorkflowID("nightly@x"), nextFire: nil, at: Self.at),
            .scheduleFired("nightly", scheduled: Self.at, run: nil, nextFire: Self.at, at: Self.at),
            .workflowStarted(WorkflowID("later"), at: Self.at),
            .workflowSubmitted(delayed, at: Self.at),
        ]
        for event in events {
            #expect(try EventCodec.decode(EventCodec.encode(event)) == event)
        }
    }

    @Test func heldWorkflowsAndSchedulesSurviveACheckpoint() throws {
        var coordinator = Coordinator()
        var delayed = WorkflowSpec(name: "later", id: WorkflowID("later"), tasks: [TaskSpec(id: "a", handler: "h")])
        delayed.startAt = Instant(milliseconds: 10_000)
        _ = coordinator.handle(.submit(delayed, request: RequestID(1)), at: Instant(milliseconds: 1000))
        var spec = Self.schedule
        spec.timezone = "UTC"
        spec.paused = false
        _ = coordinator.handle(.createSchedule(spec, request: RequestID(2)), at: Instant(milliseconds: 1000))
        let state = coordinator.state
        let workflow = try #require(state.workflows[WorkflowID("later")])
        #expect(workflow.held)
        let decoded = try SnapshotCodec.decodeWorkflow(SnapshotCodec.encode(workflow))
        #expect(decoded == workflow)
        let (globals, _) = try SnapshotCodec.decodeGlobals(SnapshotCodec.encode(state.globals, seq: 7))
        #expect(globals == state.globals)
        #expect(CoordinatorState(globals: globals, workflows: [decoded]) == state)
    }
}
