import FlowlineProtocol
import FlowlineTestSupport
import Foundation
import Testing

/// A daemon of a test's own, on a free port with a fresh data directory, and the `flowline` tool pointed at it.
final class AdminFixture {
    let directory: TemporaryDirectory
    var daemon: DaemonProcess

    init(arguments: [String] = []) throws {
        directory = try TemporaryDirectory("flowline-admin")
        daemon = try DaemonProcess(data: directory.path + "/data", sync: "none", extraArguments: arguments)
    }

    var data: String { directory.path + "/data" }
    var server: String { "127.0.0.1:\(daemon.port)" }

    func client() throws -> LineClient { try LineClient(port: daemon.port) }

    func worker(name: String = "w1", queues: [String] = ["default"], concurrency: Int = 1) throws -> LineClient {
        try LineClient.worker(port: daemon.port, name: name, queues: queues, concurrency: concurrency)
    }

    /// Runs `flowline --server <this daemon> arguments…`.
    func tool(_ arguments: [String], stdin: String? = nil, timeout: Double = 30) throws -> ToolProcess.Output {
        let (command, rest) = (arguments.first ?? "", Array(arguments.dropFirst()))
        return try ToolProcess.run([command, "--server", server] + rest, stdin: stdin, timeout: timeout)
    }

    /// Runs `flowline arguments…` as given (offline commands, error cases).
    func offline(_ arguments: [String], timeout: Double = 30) throws -> ToolProcess.Output {
        try ToolProcess.run(arguments, timeout: timeout)
    }

    /// Writes `text` to a file in the test's directory and returns its path.
    func file(_ name: String, _ text: String) throws -> String {
        let path = directory.path + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

/// The diamond of the Function Flow seed, with a fixed id.
func diamondDocument(id: String) -> String {
    #"""
    {"name":"diamond","id":"\#(id)","tasks":[
     {"id":"step1","handler":"h"},
     {"id":"step2","handler":"h","deps":["step1"]},
     {"id":"step3","handler":"h","deps":["step1"]},
     {"id":"step4","handler":"h","deps":["step2","step3"]}]}
    """#
}

extension String {
    /// The table row (`| name | ... |`) whose first cell is `name`, split into trimmed cells.
    func row(_ name: String) -> [String]? {
        for line in split(separator: "\n") where line.hasPrefix("| ") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                .map { $0.trimmingCharacters(in: .whitespaces) }
            if cells.first == name { return cells }
        }
        return nil
    }

    /// The value of a `Label   value` header line.
    func field(_ label: String) -> String? {
        for line in split(separator: "\n") where line.hasPrefix(label + "  ") {
            return line.dropFirst(label.count).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }
}
