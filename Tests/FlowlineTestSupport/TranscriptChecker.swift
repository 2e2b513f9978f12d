import FlowlineProtocol

/// Checks every line a `LineClient` sent and received against proto-json: requests and notifications by
/// `<method>.params.json` (`task.run.json` and `task.cancel.json` for the daemon's notifications), responses by
/// `<method>.result.json` of the request they answer, errors by `error.json`. Requests the daemon refused are
/// bad on purpose and are not checked.
public struct TranscriptChecker {
    public let validator: JSONSchemaValidator

    /// Loads the schemas from the repository's `proto-json/schemas`, found from this file's path.
    public init(file: String = #filePath) throws {
        var root = file
        for _ in 0..<3 { root = String(root[..<(root.lastIndex(of: "/") ?? root.startIndex)]) }
        validator = try JSONSchemaValidator(schemaDirectory: root + "/proto-json/schemas")
    }

    /// Every violation in the transcript, each naming the line; empty when everything conforms.
    public func violations(of client: LineClient) -> [String] {
        var methods: [String: String] = [:]
        var problems: [String] = []
        // A request the daemon refused was meant to be bad; only what it accepted must match the schema.
        let refused = Set(
            client.received.compactMap { line -> String? in
                guard let message = try? JSONParser.parse(line), message["error"] != nil else { return nil }
                return message["id"]?.description
            }
        )
        for line in client.sent {
            guard let message = try? JSONParser.parse(line), let method = message["method"]?.stringValue else {
                continue
            }
            if let id = message["id"] { methods[id.description] = method }
            if let id = message["id"], refused.contains(id.description) { continue }
            problems += check(message["params"] ?? .object([:]), "\(method).params.json", line)
        }
        for line in client.received {
            guard let message = try? JSONParser.parse(line) else {
                problems.append("not JSON: \(String(decoding: line, as: UTF8.self))")
                continue
            }
            if let method = message["method"]?.stringValue {
                problems += check(message["params"] ?? .null, "\(method).json", line)
            } else if let error = message["error"] {
                problems += check(error, "error.json", line)
            } else if let id = message["id"], let method = methods[id.description] {
                problems += check(message["result"] ?? .null, "\(method).result.json", line)
            } else {
                problems.append("a response to no request of ours: \(String(decoding: line, as: UTF8.self))")
            }
        }
        return problems
    }

    private func check(_ value: JSON, _ schema: String, _ line: [UInt8]) -> [String] {
        validator.validate(value, against: schema).map {
            "\(schema): \($0) in \(String(decoding: line.prefix(300), as: UTF8.self))"
        }
    }
}
