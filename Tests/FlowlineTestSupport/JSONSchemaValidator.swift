import FlowlineCore
public import FlowlineProtocol
import Foundation

/// Checks JSON values against the schemas in `proto-json/schemas`, so that integration tests can hold every line
/// they send and receive to the published protocol.
///
/// It understands exactly the JSON Schema (draft 2020-12) keywords those files use: `type` (a name or a list of
/// names), `properties`, `required`, `additionalProperties` (a boolean or a schema), `items`, `enum`, `const`,
/// `minimum`, `minLength`, `minItems`, `oneOf`, `anyOf`, `$ref` (`"workflow.json"`, `"workflow.json#/$defs/task"`
/// or `"#/$defs/x"`), and the annotations `$defs`, `description`, `title`, `$schema` and `$id`. A schema that uses
/// any other keyword yields an error rather than a silent pass; `tools/check-proto-json` keeps the files inside
/// the subset.
public struct JSONSchemaValidator: Sendable {
    /// A schema file that could not be read or parsed.
    public struct LoadError: Error, CustomStringConvertible {
        /// The file, as given or found in the schema directory.
        public let file: String
        /// What went wrong.
        public let reason: String
        /// `file: reason`.
        public var description: String { "\(file): \(reason)" }
    }

    /// Every `*.json` file of the schema directory, parsed, by file name.
    private let documents: [String: JSON]

    /// Loads every `*.json` file in `schemaDirectory` (e.g. `proto-json/schemas`).
    /// - Throws: `LoadError` when the directory cannot be listed or a file is not valid JSON.
    public init(schemaDirectory: String) throws {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: schemaDirectory)
        } catch {
            throw LoadError(file: schemaDirectory, reason: "cannot list the directory: \(error)")
        }
        var documents: [String: JSON] = [:]
        for name in names.sorted() where name.hasSuffix(".json") {
            let path = (schemaDirectory as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw LoadError(file: path, reason: "cannot read the file")
            }
            do {
                documents[name] = try SchemaReader.parse(Array(data))
            } catch {
                throw LoadError(file: path, reason: error.description)
            }
        }
        self.documents = documents
    }

    /// Validates `value` against the schema file named `schemaFile` (e.g. `"workflow.get.result.json"`).
    /// - Returns: One message per violation, each starting with the JSON path of the offending value
    ///   (`$.tasks[3].deps[0]: expected string, got integer`); empty when `value` is valid.
    public func validate(_ value: JSON, against schemaFile: String) -> [String] {
        guard let schema = documents[schemaFile] else {
            return ["$: no schema file \(schemaFile) in the schema directory"]
        }
        var errors: [String] = []
        check(value, at: "$", against: schema, in: Scope(file: schemaFile, depth: 0), into: &errors)
        return errors
    }

    // MARK: - Keywords

    /// Where a schema was found: its file (for local `#/...` references) and how many references led there.
    private struct Scope {
        let file: String
        let depth: Int
    }

    /// References followed without consuming input before a schema is taken to loop.
    private static let maximumDepth = 64

    private static let annotations: Set<String> = ["$defs", "description", "title", "$schema", "$id"]

    private func check(
        _ value: JSON,
        at path: String,
        against schema: JSON,
        in scope: Scope,
        into errors: inout [String]
    ) {
        let keywords: JSONObject
        switch schema {
        case .bool(true):
            return
        case .bool(false):
            errors.append("\(path): no value is allowed here")
            return
        case .object(let members):
            keywords = members
        case .null, .int, .double, .string, .array, .raw:
            errors.append("\(path): the schema in \(scope.file) is not an object or boolean")
            return
        }
        // Keywords are checked in a fixed order so that messages come out the same on every run.
        for (keyword, argument) in keywords.sorted(by: { $0.key < $1.key }) {
            switch keyword {
            case "required":
                checkRequired(value, at: path, names: argument, into: &errors)
            case "properties", "additionalProperties":
                // Each needs the other's argument: they are checked together once.
                if keyword == "additionalProperties" && keywords["properties"] != nil { continue }
                checkMembers(value, at: path, schema: keywords, in: scope, into: &errors)
            case "items":
                guard case .array(let items) = value else { continue }
                for (index, item) in items.enumerated() {
                    check(item, at: "\(path)[\(index)]", against: argument, in: scope, into: &errors)
                }
            case "oneOf", "anyOf":
                checkAlternatives(value, at: path, keyword: keyword, argument, in: scope, into: &errors)
            case "$ref":
                checkReference(value, at: path, reference: argument, in: scope, into: &errors)
            default:
                if let error = checkValue(value, keyword: keyword, argument, in: scope) {
                    errors.append("\(path): \(error)")
                }
            }
        }
    }

    /// Checks the keywords that look at `value` alone: `type`, `enum`, `const` and the bounds.
    private func checkValue(_ value: JSON, keyword: String, _ argument: JSON, in scope: Scope) -> String? {
        switch (keyword, value, argument) {
        case ("type", _, _):
            let allowed: [String]
            switch argument {
            case .string(let name): allowed = [name]
            case .array(let list): allowed = list.compactMap { if case .string(let name) = $0 { name } else { nil } }
            case .null, .bool, .int, .double, .object, .raw: allowed = []
            }
            if allowed.contains(where: { Self.hasType(value, $0) }) { return nil }
            return "expected \(allowed.joined(separator: " or ")), got \(Self.typeName(value))"
        case ("enum", _, .array(let options)):
            if options.contains(where: { Self.equal($0, value) }) { return nil }
            return "\(Self.describe(value)) is not one of \(Self.describe(argument))"
        case ("const", _, _):
            return Self.equal(argument, value)
                ? nil : "expected \(Self.describe(argument)), got \(Self.describe(value))"
        case ("minimum", _, _):
            guard let number = Self.number(value), let bound = Self.number(argument), number < bound else { return nil }
            return "\(Self.describe(value)) is less than the minimum \(Self.describe(argument))"
        case ("minLength", .string(let string), .int(let bound)):
            return string.unicodeScalars.count < bound ? "string shorter than \(bound) characters" : nil
        case ("minItems", .array(let items), .int(let bound)):
            return items.count < bound ? "array with fewer than \(bound) items" : nil
        case ("enum", _, _), ("minLength", _, _), ("minItems", _, _):
            return nil
        default:
            if Self.annotations.contains(keyword) { return nil }
            return "the schema in \(scope.file) uses the unsupported keyword \(keyword)"
        }
    }

    private func checkRequired(_ value: JSON, at path: String, names: JSON, into errors: inout [String]) {
        guard case .object(let members) = value, case .array(let required) = names else { return }
        for case .string(let name) in required where members[name] == nil {
            errors.append("\(path): missing required member \"\(name)\"")
        }
    }

    private func checkMembers(
        _ value: JSON,
        at path: String,
        schema: JSONObject,
        in scope: Scope,
        into errors: inout [String]
    ) {
        guard case .object(let members) = value else { return }
        var declared: JSONObject = [:]
        if case .object(let properties) = schema["properties"] { declared = properties }
        for (name, member) in members.sorted(by: { $0.key < $1.key }) {
            let memberPath = Self.append(name, to: path)
            if let memberSchema = declared[name] {
                check(member, at: memberPath, against: memberSchema, in: scope, into: &errors)
            } else if case .bool(false) = schema["additionalProperties"] {
                errors.append("\(memberPath): member not allowed here")
            } else if let extra = schema["additionalProperties"] {
                check(member, at: memberPath, against: extra, in: scope, into: &errors)
            }
        }
    }

    private func checkAlternatives(
        _ value: JSON,
        at path: String,
        keyword: String,
        _ argument: JSON,
        in scope: Scope,
        into errors: inout [String]
    ) {
        guard case .array(let alternatives) = argument else { return }
        let failures = alternatives.map { alternative in
            var branchErrors: [String] = []
            check(value, at: path, against: alternative, in: scope, into: &branchErrors)
            return branchErrors
        }
        let matches = failures.filter(\.isEmpty).count
        if matches == 0 {
            let reasons = failures.enumerated().map { "#\($0.offset): \($0.element.joined(separator: "; "))" }
            errors.append("\(path): matches none of the \(keyword) alternatives (\(reasons.joined(separator: " | ")))")
        } else if keyword == "oneOf" && matches > 1 {
            errors.append("\(path): matches \(matches) of the oneOf alternatives, not exactly one")
        }
    }

    private func checkReference(
        _ value: JSON,
        at path: String,
        reference: JSON,
        in scope: Scope,
        into errors: inout [String]
    ) {
        guard case .string(let reference) = reference else {
            errors.append("\(path): a $ref in \(scope.file) is not a string")
            return
        }
        guard scope.depth < Self.maximumDepth else {
            errors.append("\(path): $ref \(reference) in \(scope.file) nests deeper than \(Self.maximumDepth) levels")
            return
        }
        let parts = reference.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
        let target = parts[0].isEmpty ? scope.file : String(parts[0])
        let pointer = parts.count > 1 ? String(parts[1]) : ""
        guard let document = documents[target], let schema = Self.resolve(pointer, in: document) else {
            errors.append("\(path): cannot resolve $ref \(reference) in \(scope.file)")
            return
        }
        check(value, at: path, against: schema, in: Scope(file: target, depth: scope.depth + 1), into: &errors)
    }

    // MARK: - Helpers

    /// Follows a JSON Pointer (`/$defs/task`) from the root of `document`.
    private static func resolve(_ pointer: String, in document: JSON) -> JSON? {
        var node = document
        for token in pointer.split(separator: "/", omittingEmptySubsequences: true) {
            let name = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            switch node {
            case .object(let members):
                guard let next = members[name] else { return nil }
                node = next
            case .array(let items):
                guard let index = Int(name), items.indices.contains(index) else { return nil }
                node = items[index]
            case .null, .bool, .int, .double, .string, .raw:
                return nil
            }
        }
        return node
    }

    private static func hasType(_ value: JSON, _ name: String) -> Bool {
        switch (name, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object):
            true
        case ("number", .int), ("number", .double), ("integer", .int):
            true
        case ("integer", .double(let number)):
            // JSON Schema counts 1.0 as an integer: the type is about the value, not its spelling.
            number.isFinite && number.rounded() == number
        default:
            false
        }
    }

    private static func typeName(_ value: JSON) -> String {
        switch value {
        case .null: "null"
        case .bool: "boolean"
        case .int: "integer"
        case .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        case .raw: "raw text"
        }
    }

    private static func number(_ value: JSON) -> Double? {
        switch value {
        case .int(let number): Double(number)
        case .double(let number): number
        case .null, .bool, .string, .array, .object, .raw: nil
        }
    }

    /// JSON Schema equality: numbers compare by value (`1 == 1.0`), objects regardless of member order.
    private static func equal(_ lhs: JSON, _ rhs: JSON) -> Bool {
        switch (lhs, rhs) {
        case (.int(let left), .int(let right)):
            return left == right
        case (.int, .double), (.double, .int), (.double, .double):
            return number(lhs) == number(rhs)
        case (.array(let left), .array(let right)):
            return left.count == right.count && zip(left, right).allSatisfy { equal($0, $1) }
        case (.object(let left), .object(let right)):
            return left.count == right.count
                && left.allSatisfy { key, member in right[key].map { equal(member, $0) } ?? false }
        default:
            return lhs == rhs
        }
    }

    private static func append(_ name: String, to path: String) -> String {
        let isPlain =
            !name.isEmpty
            && name.unicodeScalars.allSatisfy {
                ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9") || $0 == "_"
            }
        return isPlain ? "\(path).\(name)" : "\(path)[\(describe(.string(name)))]"
    }

    /// A short rendering of a value for messages.
    private static func describe(_ value: JSON) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .int(let number): return String(number)
        case .double(let number): return String(number)
        case .string(let string):
            var escaped = ""
            for scalar in string.unicodeScalars {
                switch scalar {
                case "\\", "\"": escaped += "\\\(scalar)"
                case "\n": escaped += "\\n"
                default: escaped.unicodeScalars.append(scalar)
                }
            }
            return "\"\(escaped)\""
        case .array(let items): return "[" + items.map(describe).joined(separator: ", ") + "]"
        case .object(let members):
            let rendered = members.sorted(by: { $0.key < $1.key }).map {
                "\(describe(.string($0.key))): \(describe($0.value))"
            }
            return "{" + rendered.joined(separator: ", ") + "}"
        case .raw(let text): return String(decoding: text.bytes, as: UTF8.self)
        }
    }
}

// MARK: - Reading schema files

/// A small strict JSON reader for the schema files, so that the validator does not depend on the codec it is
/// used to test. Numbers without fraction or exponent that fit in 64 bits become `.int`, as in the codec.
private struct SchemaReader {
    struct Failure: Error, CustomStringConvertible {
        let offset: Int
        let reason: String
        var description: String { "invalid JSON at byte \(offset): \(reason)" }
    }

    private let bytes: [UInt8]
    private var offset = 0

    static func parse(_ bytes: [UInt8]) throws(Failure) -> JSON {
        var reader = SchemaReader(bytes: bytes)
        let value = try reader.value(depth: 0)
        reader.skipWhitespace()
        guard reader.offset == bytes.count else { throw reader.failure("unexpected content after the value") }
        return value
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private func failure(_ reason: String) -> Failure {
        Failure(offset: offset, reason: reason)
    }

    private mutating func skipWhitespace() {
        while offset < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[offset]) { offset += 1 }
    }

    private mutating func expect(_ literal: String, _ value: JSON) throws(Failure) -> JSON {
        let expected = Array(literal.utf8)
        guard bytes.count - offset >= expected.count, Array(bytes[offset..<offset + expected.count]) == expected
        else { throw failure("expected \(literal)") }
        offset += expected.count
        return value
    }

    private mutating func value(depth: Int) throws(Failure) -> JSON {
        guard depth < 512 else { throw failure("nested too deeply") }
        skipWhitespace()
        guard offset < bytes.count else { throw failure("unexpected end of input") }
        switch bytes[offset] {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try expect("true", .bool(true))
        case UInt8(ascii: "f"): return try expect("false", .bool(false))
        case UInt8(ascii: "n"): return try expect("null", .null)
        default: return try number()
        }
    }

    private mutating func object(depth: Int) throws(Failure) -> JSON {
        offset += 1
        var members: JSONObject = [:]
        skipWhitespace()
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "}") {
            offset += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else { throw failure("expected a name") }
            let name = try string()
            skipWhitespace()
            guard offset < bytes.count, bytes[offset] == UInt8(ascii: ":") else { throw failure("expected :") }
            offset += 1
            guard members[name] == nil else { throw failure("duplicate member \(name)") }
            members[name] = try value(depth: depth + 1)
            skipWhitespace()
            guard offset < bytes.count else { throw failure("unterminated object") }
            offset += 1
            switch bytes[offset - 1] {
            case UInt8(ascii: ","): continue
            case UInt8(ascii: "}"): return .object(members)
            default: throw failure("expected , or }")
            }
        }
    }

    private mutating func array(depth: Int) throws(Failure) -> JSON {
        offset += 1
        var items: [JSON] = []
        skipWhitespace()
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "]") {
            offset += 1
            return .array(items)
        }
        while true {
            items.append(try value(depth: depth + 1))
            skipWhitespace()
            guard offset < bytes.count else { throw failure("unterminated array") }
            offset += 1
            switch bytes[offset - 1] {
            case UInt8(ascii: ","): continue
            case UInt8(ascii: "]"): return .array(items)
            default: throw failure("expected , or ]")
            }
        }
    }

    private mutating func string() throws(Failure) -> String {
        offset += 1
        var result = ""
        var start = offset
        // Runs of plain bytes are decoded as UTF-8 in one go; escapes are decoded one by one.
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\"") {
                result += String(decoding: bytes[start..<offset], as: UTF8.self)
                offset += 1
                return result
            }
            guard byte >= 0x20 else { throw failure("control character in a string") }
            guard byte == UInt8(ascii: "\\") else {
                offset += 1
                continue
            }
            result += String(decoding: bytes[start..<offset], as: UTF8.self)
            offset += 1
            result.unicodeScalars.append(try escape())
            start = offset
        }
        throw failure("unterminated string")
    }

    private mutating func escape() throws(Failure) -> Unicode.Scalar {
        guard offset < bytes.count else { throw failure("unterminated escape") }
        offset += 1
        switch bytes[offset - 1] {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let unit = try hex4()
            if (0xD800..<0xDC00).contains(unit) {
                // A high surrogate must be followed by an escaped low one; together they name one scalar.
                guard bytes.count - offset >= 2, bytes[offset] == UInt8(ascii: "\\"),
                    bytes[offset + 1] == UInt8(ascii: "u")
                else { throw failure("lone surrogate") }
                offset += 2
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low),
                    let scalar = Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                else { throw failure("bad surrogate pair") }
                return scalar
            }
            guard let scalar = Unicode.Scalar(unit) else { throw failure("lone surrogate") }
            return scalar
        default:
            throw failure("unknown escape")
        }
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard bytes.count - offset >= 4,
            let unit = UInt32(String(decoding: bytes[offset..<offset + 4], as: UTF8.self), radix: 16)
        else { throw failure("expected four hex digits") }
        offset += 4
        return unit
    }

    private mutating func number() throws(Failure) -> JSON {
        let start = offset
        var isInteger = true
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                isInteger = false
            } else if !(byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) && byte != UInt8(ascii: "-")
                && byte != UInt8(ascii: "+")
            {
                break
            }
            offset += 1
        }
        let text = String(decoding: bytes[start..<offset], as: UTF8.self)
        guard !text.isEmpty else { throw failure("unexpected character") }
        if isInteger, let integer = Int64(text) { return .int(integer) }
        guard let number = Double(text), number.isFinite else { throw failure("bad number \(text)") }
        return .double(number)
    }
}
