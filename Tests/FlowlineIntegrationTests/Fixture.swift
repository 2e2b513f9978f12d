import FlowlineProtocol
import FlowlineTestSupport

/// A daemon of a test's own, on a free port with a fresh data directory.
final class Fixture {
    let directory: TemporaryDirectory
    var daemon: DaemonProcess

    init(sync: String = "none", arguments: [String] = []) throws {
        directory = try TemporaryDirectory()
        daemon = try DaemonProcess(data: directory.path + "/data", sync: sync, extraArguments: arguments)
    }

    var port: Int { daemon.port }

    func client() throws -> LineClient { try LineClient(port: daemon.port) }

    func worker(name: String = "worker", queues: [String] = ["default"], concurrency: Int = 1) throws -> LineClient {
        try LineClient.worker(port: daemon.port, name: name, queues: queues, concurrency: concurrency)
    }

    /// SIGKILLs the daemon and starts a new one on the same data directory.
    func crashAndRestart(sync: String = "none", arguments: [String] = []) throws {
        daemon.crash()
        daemon = try DaemonProcess(data: directory.path + "/data", sync: sync, extraArguments: arguments)
    }
}

extension JSON {
    /// The task with this id in a workflow record.
    func task(_ id: String) -> JSON? {
        self["tasks"]?.arrayValue?.first { $0["id"]?.stringValue == id }
    }

    var string: String? { stringValue }
}
