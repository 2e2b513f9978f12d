/// What a waiting task waits for (`task.await`).
public enum Future: Hashable, Sendable {
    /// Completes when a client resolves (or rejects) the key.
    case key(String, timeout: Duration?)
    /// A durable timer: completes with `null` after the duration.
    case sleep(Duration)
    /// Runs `handler` on a worker at once and then `interval` after each answer until it answers done.
    case poll(handler: String, input: RawJSON, interval: Duration, timeout: Duration?)

    /// How long the future may take before the task's attempt ends as `timeout`.
    public var timeout: Duration? {
        switch self {
        case .key(_, let timeout), .poll(_, _, _, let timeout): timeout
        case .sleep: nil
        }
    }
}

/// How a key future was settled.
public enum FutureOutcome: Hashable, Sendable {
    case resolved(RawJSON)
    case rejected(TaskError)
}

/// What kind of run a lease is for.
public enum RunKind: UInt8, Hashable, Sendable {
    /// An attempt of the task's own handler.
    case attempt = 0
    /// A poll of a waiting task's poll handler.
    case poll = 1
    /// The task's revert handler.
    case revert = 2
}

/// A poll handler's answer: `{"done": false}` or `{"done": true, "result": X}`, decoded by the codec.
public struct PollAnswer: Hashable, Sendable {
    public var done: Bool
    public var result: RawJSON
    public init(done: Bool, result: RawJSON) {
        self.done = done
        self.result = result
    }
}
