internal import FlowlineCore

// MARK: - Reading values

extension JSON {
    /// The member named `key` of an object; nil for a missing member or a non-object.
    public subscript(key: String) -> JSON? {
        guard case .object(let members) = self else { return nil }
        return members[key]
    }

    /// The element at `index` of an array; nil when out of range or not an array.
    public subscript(index: Int) -> JSON? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    /// Whether this is `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The Boolean, if this is one.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The integer, if this is an `.int` or a `.double` with an exact `Int64` value (`2.0`, `1e3`).
    public var int64Value: Int64? {
        switch self {
        case .int(let i): i
        case .double(let d): Int64(exactly: d)
        case .raw(let text): Int64(text.description)
        case .null, .bool, .string, .array, .object: nil
        }
    }

    /// The number as a `Double`, if this is a number (an `.int` may round past 2^53).
    public var doubleValue: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        // A number kept as its text (`JSONLineParser(keepsNumberText:)`), rounded: `decode(as: Decimal.self)`
        // or the text itself keep every digit.
        case .raw(let text): Double(text.description).flatMap { $0.isFinite ? $0 : nil }
        case .null, .bool, .string, .array, .object: nil
        }
    }

    /// The string, if this is one.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The elements, if this is an array.
    public var arrayValue: [JSON]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// The members, if this is an object.
    public var objectValue: JSONObject? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// The compact encoding of this value, object members in their order.
    public var encoded: [UInt8] {
        var writer = JSONWriter()
        writer.write(self)
        return writer.bytes
    }
}
