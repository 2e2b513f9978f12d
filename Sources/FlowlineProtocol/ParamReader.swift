public import FlowlineCore

/// Reads the members of one JSON object with their types checked; every failure names its path (`tasks[3].deps[0]`).
public struct ParamReader {
    public let object: JSONObject
    // The path is `base`, or `base[element]` for an element of a list. It is written out only for an error: a
    // valid element (nearly every one) then costs no string interpolation.
    private let base: String
    private let element: Int?

    /// Where this object is in the params (`tasks[3].retry`), empty for the params themselves.
    public var path: String { element.map { "\(base)[\($0)]" } ?? base }

    /// Wraps `value`, which must be an object.
    public init(_ value: JSON, path: String = "") throws(RPCError) {
        guard case .object(let object) = value else {
            throw RPCError.invalidParams("must be an object", path: path.isEmpty ? "params" : path)
        }
        self.object = object
        self.base = path
        self.element = nil
    }

    /// Wraps `value`, element `element` of the list at `list`; it must be an object.
    public init(_ value: JSON, element: Int, of list: String) throws(RPCError) {
        guard case .object(let object) = value else {
            throw RPCError.invalidParams("must be an object", path: "\(list)[\(element)]")
        }
        self.object = object
        self.base = list
        self.element = element
    }

    public func pathOf(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Throws -32602 naming the first member whose key is not in `fields` (SPEC §7: documents are strict, so a
    /// misspelt `timeout` is an error rather than a timeout silently not set).
    public func onlyFields(_ fields: [String]) throws(RPCError) {
        // Messages have a handful of members and fields, so scanning beats building a set.
        for i in object.indices {
            let key = object[i].key
            guard !fields.contains(key) else { continue }
            throw RPCError.invalidParams("is not a field here", path: pathOf(key))
        }
    }

    /// Whether the member is there and not null (a payload kept as text counts as null when its text is `null`).
    public func has(_ key: String) -> Bool {
        switch object[key] {
        case nil, .null?: return false
        case .raw(let text)?: return text != .null
        default: return true
        }
    }

    public func string(_ key: String) throws(RPCError) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let s)?: return s
        default: throw RPCError.invalidParams("must be a string", path: pathOf(key))
        }
    }

    public func requiredString(_ key: String) throws(RPCError) -> String {
        guard let s = try string(key) else { throw RPCError.invalidParams("is required", path: pathOf(key)) }
        return s
    }

    public func bool(_ key: String) throws(RPCError) -> Bool? {
        switch object[key] {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        default: throw RPCError.invalidParams("must be true or false", path: pathOf(key))
        }
    }

    /// A whole number within `range`.
    public func int(_ key: String, in range: ClosedRange<Int64>) throws(RPCError) -> Int? {
        switch object[key] {
        case nil, .null?: return nil
        case .int(let v)? where range.contains(v): return Int(v)
        // Int64(exactly:) rather than comparing with Double(range.upperBound): Double(Int64.max) rounds up to 2^63,
        // which passes that comparison and then traps in Int(d).
        case .double(let d)? where Int64(exactly: d).map(range.contains) == true:
            return Int(d)
        case .int?, .double?:
            throw RPCError.invalidParams("must be from \(range.lowerBound) to \(range.upperBound)", path: pathOf(key))
        default: throw RPCError.invalidParams("must be a whole number", path: pathOf(key))
        }
    }

    public func number(_ key: String) throws(RPCError) -> Double? {
        switch object[key] {
        case nil, .null?: return nil
        case .int(let v)?: return Double(v)
        case .double(let d)?: return d
        default: throw RPCError.invalidParams("must be a number", path: pathOf(key))
        }
    }

    /// A duration in seconds, fractional allowed, at most a year.
    public func seconds(_ key: String) throws(RPCError) -> Duration? {
        guard let s = try number(key) else { return nil }
        guard s >= 0 && s <= 366 * 86400 else {
            throw RPCError.invalidParams("must be from 0 to 31622400 seconds", path: pathOf(key))
        }
        return .fromSeconds(s)
    }

    public func array(_ key: String) throws(RPCError) -> [JSON]? {
        switch object[key] {
        case nil, .null?: return nil
        case .array(let a)?: return a
        default: throw RPCError.invalidParams("must be an array", path: pathOf(key))
        }
    }

    public func strings(_ key: String) throws(RPCError) -> [String]? {
        guard let items = try array(key) else { return nil }
        var result: [String] = []
        result.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            guard case .string(let s) = item else {
                throw RPCError.invalidParams("must be a string", path: "\(pathOf(key))[\(i)]")
            }
            result.append(s)
        }
        return result
    }

    public func object(_ key: String) throws(RPCError) -> ParamReader? {
        guard let value = object[key], value != .null else { return nil }
        return try ParamReader(value, path: pathOf(key))
    }

    /// Any JSON value, re-encoded compactly for the core to carry; `fallback` when absent.
    public func raw(_ key: String, default fallback: RawJSON? = nil) -> RawJSON? {
        guard let value = object[key] else { return fallback }
        if case .raw(let text) = value { return text }
        return RawJSON(json: value)
    }
}

extension RawJSON {
    /// The compact encoding of `json`.
    public init(json: JSON) {
        // The commonest results and inputs share one array each instead of being encoded into a new one.
        switch json {
        case .null:
            self = .null
            return
        case .object(let object) where object.isEmpty:
            self = .emptyObject
            return
        case .raw(let text):
            self = text
            return
        case .bool, .int, .double, .string, .array, .object: break
        }
        var writer = JSONWriter(capacity: 64)
        writer.write(json)
        self.init(bytes: writer.bytes)
    }
}

extension RawJSON {
    /// Whether the text is a number, a string or null (what `progress` may be); its first byte tells.
    var isNumberOrString: Bool {
        guard let first = bytes.first else { return false }
        return first == ASCII.quote || first == ASCII.minus || ASCII.isDigit(first) || first == UInt8(ascii: "n")
    }
}

extension Array where Element == UInt8 {
    /// Whether `needle` occurs in these bytes.
    func contains(subsequence needle: [UInt8]) -> Bool {
        guard let first = needle.first, needle.count <= count else { return needle.isEmpty }
        var i = 0
        while i <= count - needle.count {
            if self[i] == first && self[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }
}
