/// A JSON-RPC id: a number, a string, or null. A notification has no id at all, written `RPCID?.none`.
///
/// Only integral numbers are accepted as ids; `1.5` or `1e2` is an invalid request.
public enum RPCID: Hashable, Sendable, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral {
    /// An integer id.
    case int(Int64)
    /// A string id, echoed back exactly.
    case string(String)
    /// A null id, as in a response to a line whose id could not be read.
    case null

    /// Creates an integer id.
    public init(integerLiteral value: Int64) { self = .int(value) }

    /// Creates a string id.
    public init(stringLiteral value: String) { self = .string(value) }

    /// The id as a JSON value.
    public var json: JSON {
        switch self {
        case .int(let i): .int(i)
        case .string(let s): .string(s)
        case .null: .null
        }
    }
}

/// One decoded incoming JSON-RPC 2.0 message.
public enum RPCMessage: Equatable, Sendable {
    /// A request, or a notification when `id` is nil. `params` is an object or an array, `{}` when absent.
    case request(id: RPCID?, method: String, params: JSON)
    /// A successful response.
    case response(id: RPCID, result: JSON)
    /// An error response; `id` is nil when the peer left it out.
    case errorResponse(id: RPCID?, error: RPCError)

    /// Why a line could not be decoded, with the id when it could be read (so the reply can carry it).
    public struct DecodeFailure: Error, Equatable {
        /// The line's id, if it had a valid one; reply with `.null` when nil.
        public var id: RPCID?
        /// The error to reply with: -32700 or -32600.
        public var error: RPCError

        /// Creates a failure.
        public init(id: RPCID?, error: RPCError) {
            self.id = id
            self.error = error
        }
    }

    /// Decodes one framed line.
    ///
    /// Throws -32700 when the line is not JSON, and -32600 when it is not an object, lacks `"jsonrpc":"2.0"`,
    /// has a non-string `method`, params that are neither object nor array, an id that is not an integer, string or
    /// null, or neither `method`, `result` nor `error`.
    public static func decode(_ line: [UInt8]) throws(DecodeFailure) -> RPCMessage {
        var parser = JSONLineParser()
        return try decode(line, using: &parser)
    }

    /// Decodes one line as `decode(_:)` does, parsing it with `parser`, whose storage a connection reuses from line
    /// to line.
    public static func decode(_ line: [UInt8], using parser: inout JSONLineParser) throws(DecodeFailure) -> RPCMessage {
        try decode(line[...], using: &parser)
    }

    /// Decodes one line as `decode(_:)` does, from a slice such as `LineFramer` hands over; a parse error's offset
    /// counts from the slice's start.
    public static func decode(
        _ line: ArraySlice<UInt8>,
        using parser: inout JSONLineParser
    ) throws(DecodeFailure) -> RPCMessage {
        let json: JSON
        do {
            json = try parser.parse(line)
        } catch {
            throw DecodeFailure(id: nil, error: .parseError(error.description))
        }
        guard case .object(let members) = json else {
            throw DecodeFailure(id: nil, error: .invalidRequest("expected an object"))
        }
        let id = try decodeID(members["id"])
        func invalid(_ detail: String) -> DecodeFailure { DecodeFailure(id: id, error: .invalidRequest(detail)) }
        guard members["jsonrpc"] == .string("2.0") else { throw invalid(#""jsonrpc" must be "2.0""#) }
        if let method = members["method"] {
            guard case .string(let name) = method else { throw invalid("method must be a string") }
            let params = members["params"] ?? .object([:])
            switch params {
            case .object, .array: return .request(id: id, method: name, params: params)
            case .null, .bool, .int, .double, .string, .raw: throw invalid("params must be an object or an array")
            }
        }
        switch (members["result"], members["error"]) {
        case (let result?, nil):
            guard let id else { throw invalid("a response needs an id") }
            return .response(id: id, result: result)
        case (nil, let error?):
            guard let error = decodeErrorObject(error) else {
                throw invalid("error must have an integer code and a string message")
            }
            return .errorResponse(id: id, error: error)
        case (_?, _?):
            throw invalid("a response has result or error, not both")
        case (nil, nil):
            throw invalid("expected method, result or error")
        }
    }

    private static func decodeID(_ value: JSON?) throws(DecodeFailure) -> RPCID? {
        switch value {
        case nil: return nil
        case .int(let i)?: return .int(i)
        case .string(let s)?: return .string(s)
        case .null?: return .null
        case .bool?, .double?, .array?, .object?, .raw?:
            throw DecodeFailure(id: nil, error: .invalidRequest("id must be an integer, a string or null"))
        }
    }

    private static func decodeErrorObject(_ value: JSON) -> RPCError? {
        guard case .object(let members) = value,
            case .int(let code)? = members["code"], let code = Int(exactly: code),
            case .string(let message)? = members["message"]
        else { return nil }
        return RPCError(code: code, message: message, data: members["data"])
    }
}

/// Encoders for outgoing lines. Each line is compact JSON ending in `\n`.
public enum RPCEncoder {
    /// `{"jsonrpc":"2.0","id":…,"result":…}\n`, with a null id when `id` is nil. `result` writes one value.
    public static func response(id: RPCID?, result: (inout JSONWriter) -> Void) -> [UInt8] {
        var w = JSONWriter()
        writeResponse(id: id, to: &w, result: result)
        return w.bytes
    }

    /// Writes `response(id:result:)`'s line to `w`.
    static func writeResponse(id: RPCID?, to w: inout JSONWriter, result: (inout JSONWriter) -> Void) {
        writeLine(id: id ?? .null, to: &w) { w in
            w.key(JSONKey.result)
            result(&w)
        }
    }

    /// `{"jsonrpc":"2.0","id":…,"result":…}\n` for an already-built result.
    public static func response(id: RPCID?, result: JSON) -> [UInt8] {
        response(id: id) { $0.write(result) }
    }

    /// `{"jsonrpc":"2.0","id":…,"error":{"code":…,"message":…,"data":…}}\n`, with a null id when `id` is nil.
    public static func error(id: RPCID?, _ error: RPCError) -> [UInt8] {
        var w = JSONWriter()
        writeError(id: id, error, to: &w)
        return w.bytes
    }

    /// Writes `error(id:_:)`'s line to `w`.
    static func writeError(id: RPCID?, _ error: RPCError, to w: inout JSONWriter) {
        writeLine(id: id ?? .null, to: &w) { w in
            w.key(JSONKey.error)
            w.beginObject()
            w.key(JSONKey.code)
            w.int(Int64(error.code))
            w.key(JSONKey.message)
            w.string(error.message)
            if let data = error.data {
                w.key(JSONKey.data)
                w.write(data)
            }
            w.endObject()
        }
    }

    /// `{"jsonrpc":"2.0","id":…,"method":…,"params":…}\n`, or a notification without `id` when `id` is nil.
    /// `params` writes one object or array.
    public static func request(
        id: RPCID?,
        method: String,
        capacity: Int = 256,
        params: (inout JSONWriter) -> Void
    ) -> [UInt8] {
        line(id: id, capacity: capacity) { w in
            w.key(JSONKey.method)
            w.string(method)
            w.key(JSONKey.params)
            params(&w)
        }
    }

    /// Appends `request(id:method:params:)`'s line to `buffer` (a connection's output), without an array of its own.
    package static func request(
        id: RPCID?,
        method: String,
        appendingTo buffer: inout [UInt8],
        params: (inout JSONWriter) -> Void
    ) {
        appending(to: &buffer) { w in
            writeLine(id: id, to: &w) { w in
                w.key(JSONKey.method)
                w.string(method)
                w.key(JSONKey.params)
                params(&w)
            }
        }
    }

    /// `{"jsonrpc":"2.0","id":…,"method":…,"params":…}\n` for already-built params.
    public static func request(id: RPCID?, method: String, params: JSON) -> [UInt8] {
        request(id: id, method: method) { $0.write(params) }
    }

    private static func line(id: RPCID?, capacity: Int = 256, _ body: (inout JSONWriter) -> Void) -> [UInt8] {
        var w = JSONWriter(capacity: capacity)
        writeLine(id: id, to: &w, body)
        return w.bytes
    }

    /// Appends one whole line to `w`, which holds only whole lines (or nothing) before.
    private static func writeLine(id: RPCID?, to w: inout JSONWriter, _ body: (inout JSONWriter) -> Void) {
        w.appendEncoded(lineStart, needsCommaAfter: true)
        if let id {
            w.key(JSONKey.id)
            w.id(id)
        }
        body(&w)
        w.endObject()
        w.bytes.append(ASCII.newline)
    }

    /// Runs `write` on a writer that appends to `buffer`: the bytes are swapped into the writer and back out, so
    /// a line goes straight into a connection's output instead of into an array of its own that is then copied.
    static func appending(to buffer: inout [UInt8], _ write: (inout JSONWriter) -> Void) {
        var w = JSONWriter(capacity: 0)
        swap(&w.bytes, &buffer)
        write(&w)
        swap(&w.bytes, &buffer)
    }

    /// `{"jsonrpc":"2.0"`, which every line starts with.
    private static let lineStart = Array(#"{"jsonrpc":"2.0""#.utf8)

    /// `{"jsonrpc":"2.0","method":"<method>","params":`, a notification's start encoded once.
    static func notificationStart(_ method: String) -> [UInt8] {
        var w = JSONWriter()
        w.appendEncoded(lineStart, needsCommaAfter: true)
        w.key(JSONKey.method)
        w.string(method)
        w.key(JSONKey.params)
        return w.bytes
    }

    /// Appends a notification whose start was encoded by `notificationStart` to `w`, which holds only whole lines
    /// before; `params` writes one object or array.
    static func writeNotification(start: [UInt8], to w: inout JSONWriter, params: (inout JSONWriter) -> Void) {
        w.appendEncoded(start, needsCommaAfter: false)
        params(&w)
        w.endObject()
        w.bytes.append(ASCII.newline)
    }
}

extension JSONWriter {
    /// Writes a JSON-RPC id.
    public mutating func id(_ id: RPCID) {
        switch id {
        case .int(let i): int(i)
        case .string(let s): string(s)
        case .null: null()
        }
    }
}

extension JSONKey {
    // The member names of the envelope, encoded once.
    static let id = JSONKey("id")
    static let result = JSONKey("result")
    static let error = JSONKey("error")
    static let code = JSONKey("code")
    static let message = JSONKey("message")
    static let data = JSONKey("data")
    static let method = JSONKey("method")
    static let params = JSONKey("params")
}
