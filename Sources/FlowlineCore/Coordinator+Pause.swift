extension Coordinator {
    /// `workflow.pause` / `workflow.resume`: answers the record; an ended workflow is -32602 (SPEC §11).
    mutating func pause(
        _ w: WorkflowID,
        paused: Bool,
        request: RequestID,
        at now: Instant,
        into decision: inout Decision
    ) {
        guard let workflow = state.workflows[w] else {
            reply(request, .failure(.unknownWorkflow(w)), into: &decision)
            return
        }
        guard !workflow.state.isTerminal else {
            let error = SpecError(path: "workflow_id", message: "the workflow has ended (\(workflow.state.rawValue))")
            reply(request, .failure(.invalid(error)), into: &decision)
            return
        }
        if workflow.paused != paused {
            record(paused ? .workflowPaused(w, at: now) : .workflowResumed(w, at: now), into: &decision)
        }
        if let record = record(w, at: now) { reply(request, .workflow(record), into: &decision) }
    }
}
