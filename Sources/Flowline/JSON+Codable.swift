internal import FlowlineCore
public import FlowlineProtocol
import Foundation

// JSON is Codable so that handler inputs, results and user types can hold raw JSON values. The conformance lives
// here, not in FlowlineProtocol, because only the client library bridges to Foundation's coders.
extension JSON: Codable {
    /// Decodes any JSON value.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int64.self) {
            self = .int(i)
        } else if let d = try? c.decode(Double.self) {
            self = .double(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSON].self) {
            self = .array(a)
        } else {
            self = .object(JSONObject(try c.decode([String: JSON].self)))
        }
    }

    /// Encodes the value as it is.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o.dictionary)
        case .raw(let text):
            // A number kept as its text: Decimal carries its digits through JSONEncoder (within Decimal's range).
            if let first = text.bytes.first, first == UInt8(ascii: "-") || (0x30...0x39).contains(first),
                let decimal = Decimal(string: text.description, locale: Locale(identifier: "en_US_POSIX")),
                decimal.isFinite
            {
                try c.encode(decimal)
                return
            }
            // Otherwise (a payload a parser kept, a number past Decimal's range) encoded as the value the text is.
            guard let value = try? JSONParser.parse(text.bytes) else {
                throw EncodingError.invalidValue(
                    text.description,
                    .init(codingPath: c.codingPath, debugDescription: "not JSON")
                )
            }
            try c.encode(value)
        }
    }
}

extension JSON {
    /// The JSON form of any `Encodable` value (through `JSONEncoder`); a `JSON` value is taken as it is.
    public init(encoding value: some Encodable) throws(FlowlineError) {
        if let json = value as? JSON {
            self = json
            return
        }
        let data: Data
        do {
            data = try JSONEncoder().encode(value)
        } catch {
            throw .protocolViolation("cannot encode \(type(of: value)): \(error)")
        }
        do {
            self = try JSONParser.parse([UInt8](data))
        } catch {
            throw .protocolViolation("JSONEncoder wrote what JSONParser cannot read: \(error)")
        }
    }

    /// Decodes this value into `type` (through `JSONDecoder`); a mismatch names the type and the coding path.
    public func decode<T: Decodable>(as type: T.Type = T.self) throws(FlowlineError) -> T {
        if let json = self as? T { return json }
        do {
            return try JSONDecoder().decode(T.self, from: Data(encoded))
        } catch {
            throw .protocolViolation("cannot decode \(T.self): \(error)")
        }
    }
}

extension JSON {
    /// Reads JSON text, keeping every number exactly as written: one an `Int64` or a `Double` would change
    /// (`12345678901234567890`, `0.3333333333333333333333`, `1e400`) is held as its text, which `text`, `encoded`,
    /// a submit and a result carry unchanged, and `decode(as:)` hands to `JSONDecoder` (`Decimal` keeps the digits).
    /// Object members keep their order. This is how the client reads every message from the daemon.
    public init(parsing text: String) throws(FlowlineError) {
        do {
            self = try JSONParser.parse(keepingNumberText: Array(text.utf8))
        } catch {
            throw .protocolViolation("not JSON: \(error)")
        }
    }

    /// The value as compact JSON text: members in their order, numbers as they were read.
    public var text: String { String(decoding: encoded, as: UTF8.self) }
}
