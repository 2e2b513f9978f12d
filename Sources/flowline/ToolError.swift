import FlowlineJournal
import FlowlineProtocol

/// A failure the tool reports as one line on stderr, with an exit code (SPEC §6: 2 for usage, connection and
/// request errors).
struct ToolError: Error, CustomStringConvertible {
    var message: String
    var exitCode: Int32 = 2

    init(_ message: String, exitCode: Int32 = 2) {
        self.message = message
        self.exitCode = exitCode
    }

    var description: String { message }

    /// A journal that cannot be opened or read, named with its directory.
    static func journal(_ error: any Error, directory: String) -> ToolError {
        ToolError("cannot read journal at \(directory): \(error)")
    }

    /// A JSON text that does not parse, named with where it came from.
    static func badJSON(_ error: JSONParseError, source: String) -> ToolError {
        ToolError("\(source) is not valid JSON: \(error)")
    }
}

/// Parses JSON text from the command line or a file, as a `ToolError` naming `source` when it is not JSON.
/// `payloadsFrom` keeps the members named `input`, `result` and `progress` of objects that deep (the outermost
/// value is depth 1) as their text, so that they reach the daemon as written (SPEC §7).
func parseJSON(_ bytes: [UInt8], source: String, payloadsFrom: Int = .max) throws(ToolError) -> JSON {
    do {
        return try JSONParser.parse(bytes, keepingPayloadsFrom: payloadsFrom)
    } catch {
        throw ToolError.badJSON(error, source: source)
    }
}
