/// A JSON-RPC error object, with the codes of SPEC §3.
///
/// `message` starts with the standard phrase for the code (`"Invalid params"`), followed by the detail when
/// there is one (`"Invalid params: limit must be at most 1000"`). Structured detail goes in `data`.
public struct RPCError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The numeric code; see `RPCError.Code` for the ones Flowline uses.
    public var code: Int
    /// A short human-readable description.
    public var message: String
    /// Structured detail, such as `{"path": "tasks[2].queue"}` for bad params.
    public var data: JSON?

    /// Creates an error with any code, for instance one received from a peer.
    public init(code: Int, message: String, data: JSON? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    /// `"<code>: <message>"`.
    public var description: String { "\(code): \(message)" }

    /// The error codes of SPEC §3, for switching on `RPCError.code`.
    public enum Code {
        /// The line is not JSON.
        public static let parseError = -32700
        /// The line is JSON but not a JSON-RPC 2.0 message.
        public static let invalidRequest = -32600
        /// No such method.
        public static let methodNotFound = -32601
        /// Bad params; `data.path` names the field.
        public static let invalidParams = -32602
        /// The session has not presented a good token.
        public static let unauthorized = -32001
        /// No such workflow or task.
        public static let notFound = -32002
        /// The lease is stale or unknown.
        public static let staleLease = -32003
        /// The line is longer than `--max-line-bytes`.
        public static let lineTooLong = -32004
        /// The journal cannot take writes (disk full).
        public static let unavailable = -32005
        /// A workflow id already names a different document.
        public static let idInUse = -32006
        /// The session's token does not allow the method.
        public static let forbidden = -32007
    }

    private init(_ code: Int, _ phrase: String, detail: String? = nil, data: JSON? = nil) {
        let message = detail.map { $0.isEmpty ? phrase : "\(phrase): \($0)" } ?? phrase
        self.init(code: code, message: message, data: data)
    }

    // MARK: - The code table

    /// -32700: the line is not JSON; answered with a null id, and the connection stays open.
    public static func parseError(_ detail: String) -> RPCError {
        RPCError(Code.parseError, "Parse error", detail: detail)
    }

    /// -32600: the line is JSON but not a JSON-RPC 2.0 request.
    public static func invalidRequest(_ detail: String) -> RPCError {
        RPCError(Code.invalidRequest, "Invalid Request", detail: detail)
    }

    /// -32601: no such method; `data` is `{"method": method}`.
    public static func methodNotFound(_ method: String) -> RPCError {
        RPCError(Code.methodNotFound, "Method not found", detail: method, data: .object(["method": .string(method)]))
    }

    /// -32602: bad params; `data` is `{"path": path}`, naming the offending field.
    public static func invalidParams(_ detail: String, path: String) -> RPCError {
        RPCError(Code.invalidParams, "Invalid params", detail: detail, data: .object(["path": .string(path)]))
    }

    /// -32001: the session has not presented a good token.
    public static let unauthorized = RPCError(Code.unauthorized, "Unauthorized")

    /// -32002: no such workflow or task.
    public static func notFound(_ detail: String) -> RPCError {
        RPCError(Code.notFound, "Not found", detail: detail)
    }

    /// -32003: the lease is stale or unknown; the outcome was not recorded.
    public static let staleLease = RPCError(Code.staleLease, "Stale lease")

    /// -32004: the line passed `limit` bytes and was discarded; `data` is `{"limit": limit}`.
    public static func lineTooLong(limit: Int) -> RPCError {
        RPCError(
            Code.lineTooLong,
            "Line too long",
            detail: "longer than \(limit) bytes",
            data: .object(["limit": .int(Int64(limit))])
        )
    }

    /// -32005: the journal cannot take writes (disk full); nothing was acknowledged.
    public static let unavailable = RPCError(Code.unavailable, "Unavailable", detail: "the journal cannot take writes")

    /// -32007: the session's token (its role, or its queues) does not allow the call; `data` is
    /// `{"method": method, "role": role}`.
    public static func forbidden(_ method: String, role: String, detail: String) -> RPCError {
        RPCError(
            Code.forbidden,
            "Forbidden",
            detail: detail,
            data: .object(["method": .string(method), "role": .string(role)])
        )
    }

    /// -32006: `workflow_id` already names a different document; `data` is `{"workflow_id": workflowID}`.
    public static func idInUse(_ workflowID: String) -> RPCError {
        RPCError(
            Code.idInUse,
            "Workflow id in use",
            detail: "'\(workflowID)' names a different document",
            data: .object(["workflow_id": .string(workflowID)])
        )
    }
}
