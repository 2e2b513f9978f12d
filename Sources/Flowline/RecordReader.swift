import FlowlineProtocol

/// Reads the members of one JSON object the daemon sent; a missing or mistyped member is a protocol violation
/// naming the record and the member.
struct RecordReader {
    let members: JSONObject
    let what: String

    init(_ json: JSON, _ what: String) throws(FlowlineError) {
        guard case .object(let members) = json else { throw .protocolViolation("\(what) is not an object") }
        self.members = members
        self.what = what
    }

    private func bad(_ key: String, _ expected: String) -> FlowlineError {
        .protocolViolation("\(what).\(key) must be \(expected)")
    }

    func string(_ key: String) throws(FlowlineError) -> String {
        guard case .string(let s)? = members[key] else { throw bad(key, "a string") }
        return s
    }

    func optionalString(_ key: String) throws(FlowlineError) -> String? {
        switch members[key] {
        case nil, .null?: return nil
        case .string(let s)?: return s
        default: throw bad(key, "a string or null")
        }
    }

    func int(_ key: String) throws(FlowlineError) -> Int {
        guard let i = members[key]?.int64Value, let value = Int(exactly: i) else { throw bad(key, "an integer") }
        return value
    }

    func bool(_ key: String, default fallback: Bool? = nil) throws(FlowlineError) -> Bool {
        if let b = members[key]?.boolValue { return b }
        if let fallback, members[key] == nil || members[key] == .null { return fallback }
        throw bad(key, "true or false")
    }

    func strings(_ key: String, default fallback: [String]? = nil) throws(FlowlineError) -> [String] {
        guard let items = members[key]?.arrayValue else {
            if let fallback, members[key] == nil { return fallback }
            throw bad(key, "an array of strings")
        }
        var result: [String] = []
        for item in items {
            guard let s = item.stringValue else { throw bad(key, "an array of strings") }
            result.append(s)
        }
        return result
    }

    func array(_ key: String) throws(FlowlineError) -> [JSON] {
        guard let items = members[key]?.arrayValue else { throw bad(key, "an array") }
        return items
    }

    /// Any value; `null` and a missing member are both nil.
    func optional(_ key: String) -> JSON? {
        guard let value = members[key], value != .null else { return nil }
        return value
    }

    func failure(_ key: String) throws(FlowlineError) -> TaskFailure? {
        guard let value = optional(key) else { return nil }
        return try TaskFailure(json: value)
    }
}
