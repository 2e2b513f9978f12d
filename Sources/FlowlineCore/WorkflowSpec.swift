/// A workflow document as submitted (SPEC §2), already decoded from the wire with types checked.
public struct WorkflowSpec: Hashable, Sendable {
    public var name: String
    /// The idempotency key; nil asks the coordinator to make an id.
    public var id: WorkflowID?
    public var input: RawJSON
    public var timeout: Duration?
    public var tasks: [TaskSpec]

    public init(
        name: String,
        id: WorkflowID? = nil,
        input: RawJSON = .emptyObject,
        timeout: Duration? = nil,
        tasks: [TaskSpec]
    ) {
        self.name = name
        self.id = id
        self.input = input
        self.timeout = timeout
        self.tasks = tasks
    }
}

/// One task of a workflow document.
public struct TaskSpec: Hashable, Sendable {
    /// The id as written in the document, without any spawn prefix.
    public var id: String
    public var handler: String
    public var queue: String
    public var input: RawJSON
    public var deps: [String]
    public var retry: RetryPolicy
    public var timeout: Duration?
    public var heartbeat: Duration?
    public var revert: String?
    /// Higher runs first.
    public var priority: Int

    public init(
        id: String,
        handler: String,
        queue: String = "default",
        input: RawJSON = .emptyObject,
        deps: [String] = [],
        retry: RetryPolicy = .default,
        timeout: Duration? = nil,
        heartbeat: Duration? = nil,
        revert: String? = nil,
        priority: Int = 0
    ) {
        self.id = id
        self.handler = handler
        self.queue = queue
        self.input = input
        self.deps = deps
        self.retry = retry
        self.timeout = timeout
        self.heartbeat = heartbeat
        self.revert = revert
        self.priority = priority
    }
}

/// How often and how patiently a task is tried again.
public struct RetryPolicy: Hashable, Sendable {
    public var maxAttempts: Int
    public var backoff: Duration
    public var multiplier: Double
    public var maxBackoff: Duration

    public init(
        maxAttempts: Int = 1,
        backoff: Duration = .seconds(1),
        multiplier: Double = 2,
        maxBackoff: Duration = .seconds(300)
    ) {
        self.maxAttempts = maxAttempts
        self.backoff = backoff
        self.multiplier = multiplier
        self.maxBackoff = maxBackoff
    }

    /// SPEC §2's defaults: one attempt, 1 s doubling up to 300 s.
    public static let `default` = RetryPolicy()

    /// When a run that failed with `error` after `attempts` runs is tried again, or nil when it failed for good
    /// (the error is not retryable, or no attempt is left).
    public func retryAt(afterAttempt attempts: Int, failingWith error: TaskError, at now: Instant) -> Instant? {
        guard error.retryable && attempts < maxAttempts else { return nil }
        return now + delay(afterAttempt: attempts)
    }

    /// The wait before attempt `attempt + 1`: `min(backoff * multiplier^(attempt-1), maxBackoff)`.
    public func delay(afterAttempt attempt: Int) -> Duration {
        var ms = Double(backoff.milliseconds)
        var n = 1
        while n < attempt && ms < Double(maxBackoff.milliseconds) {
            ms *= multiplier
            n += 1
        }
        return .milliseconds(min(Int64(ms.rounded()), maxBackoff.milliseconds))
    }
}

/// The first thing wrong with a document: the field's path (`tasks[3].deps[0]`) and what is wrong.
public struct SpecError: Error, Hashable, Sendable {
    public var path: String
    public var message: String
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
}

/// Bounds that keep one document from taking the daemon down.
public enum SpecLimits {
    public static let maxTasks = 100_000
    public static let maxIDBytes = 256
    public static let maxAttempts = 1_000
}
