import ArgumentParser
import Flowline
import FlowlineProtocol
import Foundation

/// `flowline submit FILE [--wait]`: submits a workflow document and prints its id.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a workflow document and print its id.",
        discussion: "With --wait, waits for the end and prints the status table; exits 1 unless it completed."
    )

    @OptionGroup var options: ServerOptions
    @Argument(help: "The workflow document (JSON), or - for stdin.")
    var file: String
    @Flag(help: "Wait for the workflow to end and print its status.")
    var wait = false
    @Option(help: "With --wait, give up after this many seconds (exit 2).")
    var timeout: Double?
    @Flag(help: "With --wait, print the final record as JSON.")
    var json = false

    func run() async throws {
        // The document's payloads (inputs) go to the daemon as written, not rebuilt (SPEC §7).
        let document = try parseJSON(try readDocument(), source: file == "-" ? "stdin" : file, payloadsFrom: 1)
        let submission = try await options.with { client throws(FlowlineError) in try await client.submit(document) }
        if !submission.created {
            FileHandle.standardError.write(
                Data("flowline: \(submission.workflowID) already exists; nothing new started\n".utf8)
            )
        }
        guard wait else {
            print(submission.workflowID)
            return
        }
        let record = try await options.with { client throws(FlowlineError) in
            try await client.wait(submission.workflowID, timeout: timeout.map { .milliseconds(Int64($0 * 1000)) })
        }
        if !record.isFinished {
            throw ToolError("\(submission.workflowID) is still \(record.state) after \(timeout ?? 0) s")
        }
        print(json ? record.json.description : StatusReport(workflow: try WorkflowView(json: record.json)).rendered)
        if record.state != "completed" { throw ExitCode(1) }
    }

    private func readDocument() throws(ToolError) -> [UInt8] {
        if file == "-" { return Array(FileHandle.standardInput.readDataToEndOfFile()) }
        guard let data = FileManager.default.contents(atPath: file) else { throw ToolError("cannot read \(file)") }
        return Array(data)
    }
}
