import Testing

@testable import FlowlineCore

struct ReplayStepTests {
    private let spec = WorkflowSpec(
        name: "w",
        id: WorkflowID("wf-1"),
        tasks: [TaskSpec(id: "a", handler: "h"), TaskSpec(id: "b", handler: "h", deps: ["a"])]
    )

    @Test("replay moves a submission's built workflow into the state, and folds it as the event alone would")
    func replayTakesTheBuiltWorkflow() throws {
        let submitted = Event.workflowSubmitted(spec, at: Instant(milliseconds: 5))
        var step = ReplayStep(submitted)
        #expect(step.built.count == 1)
        var stepped = Coordinator()
        stepped.replay(&step)
        #expect(step.built.isEmpty)
        #expect(step.event == submitted)
        var evented = Coordinator()
        evented.replay(submitted)
        #expect(stepped.state == evented.state)
        let workflow = try #require(stepped.state.workflows[WorkflowID("wf-1")])
        #expect(workflow.tasks.map(\.state) == [.ready, .blocked])
    }

    @Test("only a submission with an id builds a workflow ahead")
    func otherEventsBuildNothing() {
        var anonymous = spec
        anonymous.id = nil
        #expect(ReplayStep(.workflowSubmitted(anonymous, at: .zero)).built.isEmpty)
        #expect(ReplayStep(.workflowCompleted(WorkflowID("wf-1"), at: .zero)).built.isEmpty)
    }

    @Test("a second submission of a workflow's id replays as nothing, as it applies")
    func aSecondSubmissionChangesNothing() {
        var other = spec
        other.tasks = [TaskSpec(id: "c", handler: "h")]
        let events: [Event] = [
            .workflowSubmitted(spec, at: Instant(milliseconds: 1)),
            .workflowSubmitted(other, at: Instant(milliseconds: 2)),
        ]
        var applied = Coordinator()
        var stepped = Coordinator()
        for event in events {
            applied.apply(event)
            var step = ReplayStep(event)
            stepped.replay(&step)
        }
        // Replay leaves the queues to `resume`.
        #expect(stepped.resume(at: Instant(milliseconds: 3)) == applied.resume(at: Instant(milliseconds: 3)))
        #expect(stepped.state == applied.state)
        #expect(stepped.state.submitted == 1 && stepped.state.nextTicket == 2)
        #expect(stepped.state.workflows[WorkflowID("wf-1")]?.tasks.map(\.id.rawValue) == ["a", "b"])
        expectCountsMatchRecount(stepped.state, "after a second submission")
    }
}
