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
}
