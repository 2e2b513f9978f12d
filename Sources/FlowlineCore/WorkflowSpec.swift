/// A workflow document as submitted (SPEC §2), already decoded from the wire with types checked.
public struct WorkflowSpec: Hashable, Sendable {
    // `tasks` is declared first so that the compiler's memberwise init, which `init(name:id:input:timeout:tasks:)`
    // calls, takes its arguments in another order than that init and no call can match both.
    public var tasks: [TaskSpec]
    public var name: String
    /// The idempotency key; nil asks the coordinator to make an id.
    public var id: WorkflowID?
    public var input: RawJSON
    public var timeout: Duration?
    /// Free-form string pairs (SPEC §7), in the order written; shown in records and lists, never interpreted.
    public var metadata: [MetadataEntry] = []
    /// SPEC §11's `start_at`: nothing of the workflow runs before it.
    public var startAt: Instant?
    /// The whole workflow's retry policy (SPEC §11): nil runs it once.
    public var retry: RetryPolicy? = nil
}

/// One `metadata` pair of a workflow.
public struct MetadataEntry: Hashable, Sendable {
    public var key: String
    public var value: String
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

extension WorkflowSpec {
    /// Declared outside the type, so that the compiler still makes the memberwise init, which this calls: an init
    /// that assigns the fields one by one (Swift 6.3) built the spec aside, then copied it out (a retain per field)
    /// and destroyed the original (a release per field), for every submission decoded.
    public init(
        name: String,
        id: WorkflowID? = nil,
        input: RawJSON = .emptyObject,
        timeout: Duration? = nil,
        metadata: [MetadataEntry] = [],
        startAt: Instant? = nil,
        retry: RetryPolicy? = nil,
        tasks: [TaskSpec]
    ) {
        self.init(
            tasks: tasks,
            name: name,
            id: id,
            input: input,
            timeout: timeout,
            metadata: metadata,
            startAt: startAt,
            retry: retry
        )
    }
}

/// One task of a workflow document.
public struct TaskSpec: Hashable, Sendable {
    // `handler` is declared before `id` so that the compiler's memberwise init, which the public init calls, takes
    // its arguments in another order than that init and no call can match both.
    public var handler: String
    /// The id as written in the document, without any spawn prefix.
    public var id: String
    public var queue: String
    public var input: RawJSON
    public var deps: [String]
    public var retry: RetryPolicy
    public var timeout: Duration?
    public var heartbeat: Duration?
    public var revert: String?
    /// Higher runs first.
    public var priority: Int
    /// The limit keys the task counts against (SPEC §11): it runs only while each has a free slot and a token.
    public var limits: [String] = []
    /// Tasks of one queue and priority take turns by this key (SPEC §11); "" for none.
    public var fairnessKey: String = ""
    /// When the task runs, given how its deps ended (SPEC §11 trigger rules).
    public var runIf: RunIf = .allCompleted
    /// Whether the task's own revert runs when it fails for good (TaskFlow's semantics).
    public var revertOnFailure = false
}

/// A task's trigger rule (`run_if`).
public enum RunIf: String, Hashable, Sendable, CaseIterable {
    /// Runs once every dep completed; skipped when one failed.
    case allCompleted = "all_completed"
    /// Runs once every dep ended, whatever the outcome.
    case allDone = "all_done"
    /// Runs once every dep ended if one of them failed for good, else ends skipped.
    case anyFailed = "any_failed"

    /// Whether a dep that ended without completing still lets the task run (it waits for every dep to end).
    public var waitsForEveryEnd: Bool { self != .allCompleted }
}

extension TaskSpec {
    /// Declared outside the type, so that the compiler still makes the memberwise init, which this calls (see
    /// `WorkflowSpec.init`): assigning the fields one by one cost a copy and a destruction of the whole spec.
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
        priority: Int = 0,
        runIf: RunIf = .allCompleted,
        revertOnFailure: Bool = false
    ) {
        self.init(
            handler: handler,
            id: id,
            queue: queue,
            input: input,
            deps: deps,
            retry: retry,
            timeout: timeout,
            heartbeat: heartbeat,
            revert: revert,
            priority: priority,
            runIf: runIf,
            revertOnFailure: revertOnFailure
        )
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
    /// The longest id, handler, queue, future key or name, in UTF-8 bytes (SPEC §7). Each is journaled, and some
    /// with every dispatch: unbounded, one field could make every event of a workflow megabytes long.
    public static let maxNameBytes = 1_024
    /// Ids are names: one bound for all.
    public static let maxIDBytes = maxNameBytes
    public static let maxAttempts = 1_000
    /// How many levels of spawned tasks may lie below a submitted one (SPEC §7). A spawned task's id carries its
    /// ancestors' (`a/b/c`), so an unbounded chain made ids, and the records that hold them, grow with its square.
    public static let maxSpawnDepth = 32

    /// Whether `name` has at most `maxNameBytes` bytes.
    public static func fits(_ name: String) -> Bool { name.utf8.count <= maxNameBytes }

    /// `metadata`: at most this many pairs, keys and values of at most these many bytes (SPEC §7).
    public static let maxMetadataPairs = 32
    public static let maxMetadataKeyBytes = 64
    public static let maxMetadataValueBytes = 256
}
