/// A journaled event made ready for `Coordinator.replay` away from the coordinator: for a submission, the workflow
/// with its tasks added and linked (the part of the fold that depends on the event alone), so that recovery can
/// build it on the thread that decodes while another folds.
public struct ReplayStep: Sendable {
    public let event: Event
    /// The workflow a submission makes, if any: at most one element. An array rather than an optional, because a
    /// step is moved several times on its way to the fold (into its batch, through the pipe), and a workflow held
    /// inline would make every move a copy of hundreds of bytes; the array is one pointer. `Coordinator.replay`
    /// moves the workflow out, leaving the array empty: a copy would retain every field, and the first change to
    /// the workflow's tasks would then copy them all.
    var built: [Workflow]

    public init(_ event: consuming Event) {
        built = Self.build(event)
        self.event = event
    }

    /// `ReplayStep(.workflowSubmitted(spec, at: at))`, for a decoder that has the spec before the event: the
    /// workflow is built from the spec before it goes into the event, where finding it again copied the event.
    public init(submitted spec: consuming WorkflowSpec, at: Instant) {
        if let id = spec.id {
            built = [Workflow(submitted: spec, id: id, at: at)]
        } else {
            built = []
        }
        event = .workflowSubmitted(spec, at: at)
    }

    /// Reads the event where it is (borrowed): binding the payload of the consumed parameter copied the whole event.
    private static func build(_ event: Event) -> [Workflow] {
        guard case .workflowSubmitted(let spec, let at) = event, let id = spec.id else { return [] }
        return [Workflow(submitted: spec, id: id, at: at)]
    }
}
