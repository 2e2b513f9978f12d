import ArgumentParser

extension FlowlineTool {
    /// The commands that talk to a running daemon.
    static let liveCommands: [any ParsableCommand.Type] = []
}

/// Placeholder until the client library lands: compares with a live daemon.
struct LiveVerification {
    var server: String
    var tokenFile: String?
    var data: String

    func compare(_ ids: [String], filter: String?) async throws -> (compared: Int, problems: [String]) {
        throw ToolError("live verification needs the client library, which is not built in yet")
    }
}
