import ArgumentParser
import Flowline
import FlowlineProtocol

/// `flowline resolve KEY [--result JSON]`: settles a future with a result.
struct ResolveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve",
        abstract: "Resolve a future: the tasks awaiting KEY complete with the result."
    )

    @OptionGroup var options: ServerOptions
    @Argument(help: "The future's key.")
    var key: String
    @Option(help: "The result, as JSON text (default null).")
    var result = "null"
    @Flag(help: "Print {matched} as JSON.")
    var json = false

    func run() async throws {
        // Wrapped as a payload member, so that the value is checked and then sent as written, spaces outside
        // strings dropped, rather than rebuilt (which would round big numbers and sort members).
        let wrapped = try parseJSON(
            Array(#"{"result":"#.utf8) + Array(result.utf8) + [0x7D],
            source: "--result",
            payloadsFrom: 1
        )
        let value = wrapped["result"] ?? .null
        let matched = try await options.with { client throws(FlowlineError) in
            try await client.resolve(key: key, result: value)
        }
        print(json ? #"{"matched":\#(matched)}"# : FutureOutcome.text(matched, key: key))
    }
}

/// `flowline reject KEY --error MSG`: settles a future with an error.
struct RejectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reject",
        abstract: "Reject a future: the tasks awaiting KEY fail with the error."
    )

    @OptionGroup var options: ServerOptions
    @Argument(help: "The future's key.")
    var key: String
    @Option(help: "The error message.")
    var error: String
    @Flag(help: "Print {matched} as JSON.")
    var json = false

    func run() async throws {
        let matched = try await options.with { client throws(FlowlineError) in
            try await client.reject(key: key, error: error)
        }
        print(json ? #"{"matched":\#(matched)}"# : FutureOutcome.text(matched, key: key))
    }
}

enum FutureOutcome {
    static func text(_ matched: Int, key: String) -> String {
        matched == 0
            ? "no task awaits \(key) yet; the outcome is kept for the first one that does"
            : "\(matched) task\(matched == 1 ? "" : "s") settled by \(key)"
    }
}
