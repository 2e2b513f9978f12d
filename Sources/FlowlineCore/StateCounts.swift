/// A state that `StateCounts` can count: its `ordinal` is its position in `allCases`.
public protocol CountedState: CaseIterable, Hashable, Sendable {
    var ordinal: Int { get }
}

/// How many workflows or tasks are in each state. Derived from the records and kept up by `CoordinatorState` as
/// they change, so that `stats` reads it without walking every record; never journaled nor checkpointed.
public struct StateCounts<State: CountedState>: Hashable, Sendable {
    private var counts = [Int](repeating: 0, count: State.allCases.count)

    public init() {}

    public subscript(state: State) -> Int { counts[state.ordinal] }

    mutating func add(_ state: State, _ n: Int = 1) { counts[state.ordinal] += n }

    /// Inlined: every access to a workflow or task in the core ends here, and almost always finds no change.
    @inline(__always)
    mutating func move(from old: State, to new: State) {
        guard old != new else { return }
        counts[old.ordinal] -= 1
        counts[new.ordinal] += 1
    }
}

extension TaskState: CountedState {
    public var ordinal: Int {
        switch self {
        case .blocked: 0
        case .ready: 1
        case .running: 2
        case .waiting: 3
        case .completed: 4
        case .failed: 5
        case .timedOut: 6
        case .cancelled: 7
        case .skipped: 8
        case .reverting: 9
        case .reverted: 10
        case .revertFailed: 11
        }
    }
}

extension WorkflowState: CountedState {
    public var ordinal: Int {
        switch self {
        case .running: 0
        case .reverting: 1
        case .completed: 2
        case .failed: 3
        case .cancelled: 4
        case .timedOut: 5
        }
    }
}
