import ArgumentParser
import Flowline
import Foundation

/// `flowline watch ID`: a live progress bar until the workflow ends; the exit code tells how it ended.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Show a live progress bar until the workflow ends.",
        discussion: """
            On a terminal the bar is redrawn in place; otherwise a plain line is printed whenever it changes. \
            Exits 0 when the workflow completed, 1 when it failed, was cancelled or timed out.
            """
    )

    @OptionGroup var options: ServerOptions
    @Argument(help: "The workflow id.")
    var id: String
    @Option(help: "Seconds between updates.")
    var interval: Double = 0.5

    func run() async throws {
        let client = try await options.connect()
        defer { client.close() }
        let isTerminal = isatty(STDOUT_FILENO) == 1
        var last = ""
        while true {
            let record: WorkflowRecord
            do {
                // A bounded wait answers at once when the workflow ends, else with the record as it stands.
                record = try await client.wait(id, timeout: .milliseconds(Int64(max(0.05, interval) * 1000)))
            } catch {
                if isTerminal && !last.isEmpty { write("\n") }
                throw ToolError.request(error, server: options.server)
            }
            let line = ProgressLine(workflow: try WorkflowView(json: record.json), now: TimeText.now())
            if isTerminal {
                // Carriage return and erase-line redraw the bar in place.
                write("\r\u{1B}[2K" + line.rendered(barWidth: 30))
            } else if line.plain != last {
                write(line.plain + "\n")
            }
            last = line.plain
            if record.isFinished {
                write((isTerminal ? "\n" : "") + "\(id) \(record.state)\n")
                if record.state != "completed" { throw ExitCode(1) }
                return
            }
        }
    }
}

/// Writes straight to stdout, unbuffered, so each redraw shows at once.
private func write(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}

/// One line of `watch`: tasks done of total, running, waiting, failed.
struct ProgressLine {
    var workflow: WorkflowView
    var now: Millis

    var done: Int { workflow.tasks.count { $0.isFinished } }
    var running: Int { workflow.tasks.count { $0.state == "running" } }
    var waiting: Int { workflow.tasks.count { ["blocked", "ready", "waiting"].contains($0.state) } }
    var failed: Int { workflow.tasks.count { ["failed", "timed_out", "revert_failed"].contains($0.state) } }

    /// `done 3/8  running 2  waiting 3  failed 0  state running`: the counts, with no bar or clock.
    var plain: String {
        "\(workflow.id) \(done)/\(workflow.tasks.count) done, \(running) running, \(waiting) waiting, "
            + "\(failed) failed (\(workflow.state))"
    }

    /// `[#########.........] 3/8 done, ... 2.5s`.
    func rendered(barWidth: Int) -> String {
        let total = max(1, workflow.tasks.count)
        let filled = done * barWidth / total
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: barWidth - filled)
        let elapsed = workflow.created.map { TimeText.duration((workflow.finished ?? now) - $0) } ?? ""
        return "[\(bar)] \(plain) \(elapsed)"
    }
}
