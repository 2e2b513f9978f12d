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
            // Only a parser asked to keep payloads makes these; encoded as the value the text is.
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
