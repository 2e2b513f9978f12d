/// Which workflows a bulk operation or a list picks (`workflow.list`, `workflow.cancel_many`,
/// `workflow.rerun_many`): all of the given conditions hold.
public struct WorkflowFilter: Hashable, Sendable {
    public var state: WorkflowState?
    public var name: String?
    /// Pairs the workflow's `metadata` must all have.
    public var metadata: [MetadataEntry]

    public init(state: WorkflowState? = nil, name: String? = nil, metadata: [MetadataEntry] = []) {
        self.state = state
        self.name = name
        self.metadata = metadata
    }

    /// True when nothing is asked: a bulk operation refuses it rather than act on everything.
    public var isEmpty: Bool { state == nil && name == nil && metadata.isEmpty }

    public func matches(_ w: borrowing Workflow) -> Bool {
        if let state, w.state != state { return false }
        if let name, w.name != name { return false }
        for pair in metadata where !w.metadata.contains(pair) { return false }
        return true
    }
}
