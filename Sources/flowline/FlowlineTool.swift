import ArgumentParser
import FlowlineProtocol
import Foundation

/// `flowline`: the admin tool (SPEC §6).
struct FlowlineTool: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flowline",
        abstract: "Talk to a running flowlined, or read its data directory.",
        discussion: """
            --server HOST:PORT (default 127.0.0.1:7420) and --token-file F may come before or after the \
            command's name.

            Exit status: 0 on success; 1 on a workflow that did not complete (submit --wait, watch) or a \
            replay --verify difference; 2 on a usage, connection or request error, with one line on stderr.
            """,
        version: "flowline \(flowlineVersion)",
        subcommands: [
            SubmitCommand.self, StatusCommand.self, ProfileCommand.self, WatchCommand.self, ListCommand.self,
            HistoryCommand.self, CancelCommand.self, RerunCommand.self, ResolveCommand.self, RejectCommand.self,
            WorkersCommand.self, StatsCommand.self, InspectCommand.self, ReplayCommand.self, ScheduleCommand.self,
            LimitCommand.self, PauseCommand.self, ResumeCommand.self,
        ]
    )

    /// Runs the command line and exits: never a stack trace, always one line on stderr for an error.
    static func runAndExit() async -> Never {
        do {
            var command = try parseAsRoot(hoistingServerOptions(Array(CommandLine.arguments.dropFirst())))
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

    /// `flowline --server H:P status ID` as SPEC §6 writes it: ArgumentParser knows `--server` and `--token-file`
    /// only after the command's name, so those given before it move there.
    static func hoistingServerOptions(_ arguments: [String]) -> [String] {
        var index = 0
        let leading = serverOptions(in: arguments, from: &index)
        guard index < arguments.count else { return arguments }
        let command = arguments[index]
        // A command with subcommands (`schedule create`, `limit set`) takes them after its subcommand's name,
        // whether they came before the command or between it and its subcommand.
        if groupCommands.contains(command) {
            var next = index + 1
            let between = serverOptions(in: arguments, from: &next)
            guard next < arguments.count, !(leading.isEmpty && between.isEmpty) else { return arguments }
            return [command, arguments[next]] + leading + between + arguments[(next + 1)...]
        }
        guard !leading.isEmpty else { return arguments }
        return [command] + leading + arguments[(index + 1)...]
    }

    /// The `--server` and `--token-file` options from `index` on, with their values; leaves `index` after them.
    private static func serverOptions(in arguments: [String], from index: inout Int) -> [String] {
        var options: [String] = []
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--server" || argument == "--token-file" {
                options += arguments[index..<min(index + 2, arguments.count)]
                index += 2
            } else if argument.hasPrefix("--server=") || argument.hasPrefix("--token-file=") {
                options.append(argument)
                index += 1
            } else {
                break
            }
        }
        return options
    }

    /// Commands whose own subcommands carry the server options.
    static let groupCommands: Set<String> = ["schedule", "limit"]

    static func printError(_ message: String) {
        FileHandle.standardError.write(Data("flowline: \(message)\n".utf8))
    }
}
