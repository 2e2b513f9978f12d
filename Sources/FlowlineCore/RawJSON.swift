/// JSON text the core carries but never parses: inputs, results, progress. The codec checked it is valid.
public struct RawJSON: Hashable, Sendable, CustomStringConvertible {
    public var bytes: [UInt8]
    public init(bytes: [UInt8]) { self.bytes = bytes }
    public init(_ text: String) { self.bytes = Array(text.utf8) }
    public static let null = RawJSON("null")
    public static let emptyObject = RawJSON("{}")
    public var description: String { String(decoding: bytes, as: UTF8.self) }
}

/// Why a task's attempt failed, as a worker reported it or as the coordinator decided (`timeout`, `worker_lost`).
public struct TaskError: Hashable, Sendable {
    public var type: String
    public var message: String
    public var retryable: Bool
    /// What the sender put in the error's `data` (a `future.reject`'s, a `task.fail`'s), carried verbatim (SPEC §7).
    public var data: RawJSON?
    public init(type: String, message: String, retryable: Bool = true, data: RawJSON? = nil) {
        self.type = type
        self.message = message
        self.retryable = retryable
        self.data = data
    }

    /// The attempt's lease ran out of time (`timeout_s`).
    public static let timeout = TaskError(type: "timeout", message: "the task's timeout passed")
    /// The worker stopped heartbeating or disconnected.
    public static func workerLost(_ why: String) -> TaskError { TaskError(type: "worker_lost", message: why) }
}
