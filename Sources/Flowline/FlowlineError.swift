public import FlowlineProtocol

/// The JSON-RPC error codes of SPEC §3, as a Swift enum; codes Flowline does not define arrive as `.other`.
public enum RPCErrorCode: Sendable, Hashable, CustomStringConvertible {
    /// -32700: the line was not JSON.
    case parseError
    /// -32600: not a JSON-RPC request.
    case invalidRequest
    /// -32601: unknown method (for instance a method an older daemon lacks).
    case methodNotFound
    /// -32602: bad params; the error's `data.path` names the field.
    case invalidParams
    /// -32001: no good token was presented.
    case unauthorized
    /// -32002: no such workflow or task.
    case notFound
    /// -32003: stale or unknown lease.
    case staleLease
    /// -32004: the line passed the daemon's `--max-line-bytes`.
    case lineTooLong
    /// -32005: the journal cannot take writes (disk full).
    case unavailable
    /// Any other code.
    case other(Int)

    /// The code for a numeric JSON-RPC error code.
    public init(code: Int) {
        switch code {
        case RPCError.Code.parseError: self = .parseError
        case RPCError.Code.invalidRequest: self = .invalidRequest
        case RPCError.Code.methodNotFound: self = .methodNotFound
        case RPCError.Code.invalidParams: self = .invalidParams
        case RPCError.Code.unauthorized: self = .unauthorized
        case RPCError.Code.notFound: self = .notFound
        case RPCError.Code.staleLease: self = .staleLease
        case RPCError.Code.lineTooLong: self = .lineTooLong
        case RPCError.Code.unavailable: self = .unavailable
        default: self = .other(code)
        }
    }

    /// The numeric JSON-RPC code.
    public var code: Int {
        switch self {
        case .parseError: RPCError.Code.parseError
        case .invalidRequest: RPCError.Code.invalidRequest
        case .methodNotFound: RPCError.Code.methodNotFound
        case .invalidParams: RPCError.Code.invalidParams
        case .unauthorized: RPCError.Code.unauthorized
        case .notFound: RPCError.Code.notFound
        case .staleLease: RPCError.Code.staleLease
        case .lineTooLong: RPCError.Code.lineTooLong
        case .unavailable: RPCError.Code.unavailable
        case .other(let code): code
        }
    }

    /// The numeric code, as text.
    public var description: String { String(code) }
}

/// Everything a `Client` or `Worker` call can fail with.
public enum FlowlineError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The daemon answered with a JSON-RPC error: its code, its message and its `data` (`{"path": ...}` for
    /// invalid params).
    case rpc(RPCErrorCode, message: String, data: JSON?)
    /// The connection could not be made or was lost: refused, reset, closed.
    case connection(String)
    /// The daemon sent something this library cannot read (a record without a required field, say).
    case protocolViolation(String)
    /// The operation did not finish in time (connecting, or a bounded wait).
    case timeout

    /// An error response from the daemon.
    public init(_ error: RPCError) {
        self = .rpc(RPCErrorCode(code: error.code), message: error.message, data: error.data)
    }

    /// The JSON-RPC code, if this is an error response.
    public var rpcCode: RPCErrorCode? {
        if case .rpc(let code, _, _) = self { return code }
        return nil
    }

    /// `data.path` of an invalid-params error: the first bad field of a document (`tasks[3].deps[0]`).
    public var path: String? {
        if case .rpc(_, _, let data) = self { return data?["path"]?.stringValue }
        return nil
    }

    /// One line for people: `"-32002: Not found: no workflow 'x'"`, `"connection: refused"`.
    public var description: String {
        switch self {
        case .rpc(let code, let message, let data):
            let path = data?["path"]?.stringValue.map { " (at \($0))" } ?? ""
            return "\(code.code): \(message)\(path)"
        case .connection(let detail): return "connection: \(detail)"
        case .protocolViolation(let detail): return "protocol violation: \(detail)"
        case .timeout: return "timed out"
        }
    }
}
