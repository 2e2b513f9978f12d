/// A journaled event made ready for `Coordinator.replay` away from the coordinator: for a submission, the workflow
/// with its tasks added and linked (the part of the fold that depends on the event alone), so that recovery can
/// build it on the thread that decodes while another folds.
public struct ReplayStep: Sendable {
    public let event: Event
    let built: Workflow?

    public init(_ event: Event) {
        self.event = event
        if case .workflowSubmitted(let spec, let at) = event, let id = spec.id {
            built = Workflow(submitted: spec, id: id, at: at)
        } else {
            built = nil
        }
    }
}
