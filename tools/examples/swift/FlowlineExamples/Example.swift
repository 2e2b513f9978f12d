public import Flowline
import FlowlineProtocol

/// One of the seeds' examples: the workflow (written with the builder so it reads like the seed), the handlers
/// that run its tasks, and the outcome it is meant to reach.
///
/// `ExampleRunner.run` starts a `Worker` with the handlers, submits the workflow, waits for it and calls `check`;
/// the `flowline-examples` executable and the integration tests both go through it.
public protocol Example: Sendable {
    /// The workflow to submit.
    var workflow: Workflow { get }
    /// The queues its tasks run on.
    var queues: [String] { get }
    /// Registers the handlers of every task, spawned task and revert of the workflow.
    func register(on worker: Worker)
    /// Checks the finished workflow's record (and its journal history) against what the example is meant to do;
    /// returns the lines that say what happened, or throws `ExampleFailure`.
    func check(_ record: WorkflowRecord, history: [HistoryEvent]) throws(ExampleFailure) -> [String]
}

extension Example {
    /// Most examples run on the default queue.
    public var queues: [String] { ["default"] }
}

/// An example that did not reach its expected outcome.
public struct ExampleFailure: Error, Sendable, CustomStringConvertible {
    /// What was expected and what happened.
    public var description: String

    /// A failure saying `description`.
    public init(_ description: String) { self.description = description }
}

/// A daemon's address, from `--server HOST:PORT`, and its token.
public struct ServerAddress: Sendable, CustomStringConvertible {
    /// The host name or address.
    public var host: String
    /// The TCP port.
    public var port: Int
    /// The daemon's token, if it has one.
    public var token: String?

    /// An address.
    public init(host: String = "127.0.0.1", port: Int, token: String? = nil) {
        self.host = host
        self.port = port
        self.token = token
    }

    /// Reads `HOST:PORT` (`[::1]:7420` too); nil when it is not that.
    public init?(parsing text: String, token: String? = nil) {
        guard let address = HostPort(parsing: text) else { return nil }
        self.init(host: address.host, port: address.port, token: token)
    }

    /// `HOST:PORT`.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// A connected client, trying again for up to `patience` while the daemon cannot be reached (it may be
    /// restarting).
    public func connect(name: String, patience: Duration = .seconds(10)) async throws -> Client {
        let deadline = ContinuousClock.now + patience
        while true {
            do {
                return try await Client(host: host, port: port, token: token, name: name)
            } catch {
                guard case .connection = error, ContinuousClock.now < deadline else { throw error }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }
}
