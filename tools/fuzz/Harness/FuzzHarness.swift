import FlowlineCore
import FlowlineProtocol

/// What the fuzz targets feed their input through: the same calls, in the same order, as the daemon.
///
/// Each entry point traps (a `precondition`) when an invariant breaks, so that libFuzzer, the corpus replayer
/// and the regression tests all see a failure the same way.
public enum FuzzHarness {
    /// The longest line the framer accepts here: small, so that inputs reach the too-long path too.
    public static let maxLineBytes = 1024

    /// The daemon's whole input path for bytes off a socket: the line framer, `RPCMessage.decode`, then
    /// `Call.decode` (`Daemon.handleLine`). The first byte picks a chunk size; framing in chunks must give the
    /// same frames as framing everything at once.
    public static func line(_ data: [UInt8]) {
        guard let first = data.first else { return }
        let input = Array(data.dropFirst())
        var whole = LineFramer(maxLineBytes: maxLineBytes)
        let expected = whole.feed(input)
        let chunk = Int(first % 64) + 1
        var pieces = LineFramer(maxLineBytes: maxLineBytes)
        var frames: [LineFramer.Frame] = []
        var start = 0
        while start < input.count {
            frames += pieces.feed(input[start..<min(start + chunk, input.count)])
            start += chunk
        }
        precondition(frames == expected, "framing depends on the chunk size \(chunk)")
        precondition(pieces.bufferedBytes <= maxLineBytes, "the framer holds \(pieces.bufferedBytes) bytes")
        for frame in frames {
            switch frame {
            case .line(let line):
                precondition(line.count <= maxLineBytes, "a \(line.count)-byte line passed the framer")
                decodeLine(line)
            case .tooLong:
                checkErrorLine(RPCEncoder.error(id: nil, .lineTooLong(limit: maxLineBytes)))
            }
        }
    }

    /// A workflow document as `workflow.submit` receives it: parsed JSON, then `WorkflowSpec(wire:)`, which
    /// decodes and validates. An accepted document must be valid; a rejected one must be -32602 with a path.
    public static func workflow(_ data: [UInt8]) {
        guard let json = try? JSONParser.parse(data) else { return }
        do {
            let spec = try WorkflowSpec(wire: json)
            precondition(spec.validate() == nil, "an accepted document does not validate")
            precondition(!spec.tasks.isEmpty && spec.tasks.count <= SpecLimits.maxTasks, "task count out of bounds")
            precondition(Set(spec.tasks.map(\.id)).count == spec.tasks.count, "duplicate task ids were accepted")
        } catch {
            precondition(error.code == RPCError.Code.invalidParams, "a bad document gave \(error.code)")
            precondition(error.data?["path"]?.stringValue != nil, "a -32602 without data.path")
            checkErrorLine(RPCEncoder.error(id: .int(1), error))
        }
    }

    /// One framed line, as `Daemon.handleLine` takes it apart; every answer it could send must be one JSON line.
    static func decodeLine(_ line: [UInt8]) {
        if let json = try? JSONParser.parse(line) { checkRoundTrip(json) }
        let message: RPCMessage
        do {
            message = try RPCMessage.decode(line)
        } catch {
            checkErrorLine(RPCEncoder.error(id: error.id, error.error))
            return
        }
        guard case .request(let id, let method, let params) = message else { return }
        do {
            let call = try Call.decode(method: method, params: params)
            if case .submit(let spec) = call { precondition(spec.validate() == nil, "an invalid spec was accepted") }
        } catch {
            checkErrorLine(RPCEncoder.error(id: id, error))
        }
    }

    /// Results and inputs are carried re-encoded (`RawJSON(json:)`): writing a value and reading it back must
    /// give the same value, or a worker would see something other than what was sent.
    static func checkRoundTrip(_ json: JSON) {
        let encoded = json.encoded
        guard let again = try? JSONParser.parse(encoded) else {
            preconditionFailure("the writer produced unparsable JSON: \(String(decoding: encoded, as: UTF8.self))")
        }
        precondition(again == json, "JSON changed through the writer: \(String(decoding: encoded, as: UTF8.self))")
    }

    /// An answer line: one JSON object, one trailing newline, nothing else.
    static func checkErrorLine(_ bytes: [UInt8]) {
        precondition(bytes.last == 10 && bytes.dropLast().firstIndex(of: 10) == nil, "an answer is not one line")
        precondition((try? JSONParser.parse(bytes.dropLast())) != nil, "an answer is not JSON")
    }
}
