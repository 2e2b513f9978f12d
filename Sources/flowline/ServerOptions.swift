import ArgumentParser
import Flowline
import FlowlineProtocol
import Foundation

/// `--server HOST:PORT` and `--token-file F`, shared by every command that talks to a running daemon.
struct ServerOptions: ParsableArguments {
    @Option(help: "The daemon's HOST:PORT.")
    var server = "127.0.0.1:7420"
    @Option(help: "A file holding the daemon's token.")
    var tokenFile: String?

    /// Connects and says hello, or fails with one line naming the server.
    func connect() async throws(ToolError) -> Client {
        guard let address = HostPort(parsing: server) else {
            throw ToolError("--server must be HOST:PORT (a host name, an IPv4 address or [IPv6]), not \(server)")
        }
        var token: String?
        if let tokenFile {
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw ToolError("cannot read --token-file \(tokenFile)")
            }
            token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        do {
            return try await Client(host: address.host, port: address.port, token: token, name: "flowline")
        } catch {
            switch error {
            case .connection(let detail): throw ToolError("cannot reach flowlined at \(server): \(detail)")
            case .timeout: throw ToolError("flowlined at \(server) did not answer within 10 s")
            case .rpc, .protocolViolation: throw ToolError("flowlined at \(server) refused the connection: \(error)")
            }
        }
    }

    /// Runs `body` with a connected client and closes it; a failed call becomes one line naming the server.
    func with<R>(_ body: (Client) async throws(FlowlineError) -> R) async throws(ToolError) -> R {
        let client = try await connect()
        defer { client.close() }
        do {
            return try await body(client)
        } catch {
            throw ToolError.request(error, server: server)
        }
    }
}

extension ToolError {
    /// A failed request: the daemon's message (an unknown workflow id, a bad document), or a lost connection.
    static func request(_ error: FlowlineError, server: String) -> ToolError {
        switch error {
        case .rpc(_, let message, let data):
            let path = data?["path"]?.stringValue.map { " (at \($0))" } ?? ""
            return ToolError("\(message)\(path)")
        case .connection(let detail): return ToolError("lost the connection to flowlined at \(server): \(detail)")
        case .protocolViolation(let detail):
            return ToolError("flowlined at \(server) sent something unreadable: \(detail)")
        case .timeout: return ToolError("flowlined at \(server) did not answer in time")
        }
    }
}
