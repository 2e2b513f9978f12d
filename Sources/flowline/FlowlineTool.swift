import ArgumentParser
import Foundation

/// `flowline`: the admin tool (SPEC §6).
struct FlowlineTool: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flowline",
        abstract: "Talk to a running flowlined, or read its data directory.",
        discussion: """
            Exit status: 0 on success; 1 on a workflow that did not complete (submit --wait, watch) or a \
            replay --verify difference; 2 on a usage, connection or request error, with one line on stderr.
            """,
        subcommands: liveCommands + [InspectCommand.self, ReplayCommand.self])

    /// Runs the command line and exits: never a stack trace, always one line on stderr for an error.
    static func runAndExit() async -> Never {
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
            Foundation.exit(0)
        } catch let error as ToolError {
            printError(error.message)
            Foundation.exit(error.exitCode)
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch {
            // Help and --version are clean exits that print to stdout; every other parse error is a usage error.
            if exitCode(for: error) == .success { self.exit(withError: error) }
            let message = self.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            printError("\(message) (see flowline help)")
            Foundation.exit(2)
        }
    }

    static func printError(_ message: String) {
        FileHandle.standardError.write(Data("flowline: \(message)\n".utf8))
    }
}
