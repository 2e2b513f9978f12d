/// The tokens of `--token-file` and what each may do (SPEC §12).
///
/// A line is a bare token (full access, as before roles existed) or `ROLE TOKEN [QUEUE,...]`, ROLE one of
/// `admin`, `client`, `worker`; queues only on worker lines. Blank lines and `#` comments are ignored. A file with
/// no token, an unknown role or a token given twice is refused at start. No message ever contains a token.
public struct AccessTokens: Sendable {
    /// What a token allows.
    public enum Role: String, Sendable, CaseIterable {
        /// Everything.
        case admin
        /// The client methods: everything but `task.*` and `worker.quiet`, and no `hello` as a worker.
        case client
        /// `hello` (as a worker only on its queues), `task.*`, `worker.quiet`, `future.resolve`, `future.reject`,
        /// `stats`.
        case worker
    }

    /// A good token's rights.
    public struct Grant: Sendable, Equatable {
        public var role: Role
        /// For a worker token, the queues it may serve; nil for every queue.
        public var queues: [String]?
    }

    private struct Entry: Sendable {
        let token: [UInt8]
        let grant: Grant
    }

    private let entries: [Entry]

    /// One token with full access.
    public init(token: String) {
        entries = [Entry(token: Array(token.utf8), grant: Grant(role: .admin, queues: nil))]
    }

    /// Parses a token file's text; throws a message naming the line for anything it cannot take.
    public init(parsing text: String) throws(TokenFileError) {
        var entries: [Entry] = []
        // By Character: "\r\n" is one, a newline, which splitting on "\n" would not see.
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = rawLine.split(whereSeparator: \.isWhitespace)
            guard let first = line.first, !first.hasPrefix("#") else { continue }
            let number = index + 1
            let entry: Entry
            switch line.count {
            case 1: entry = Entry(token: Array(first.utf8), grant: Grant(role: .admin, queues: nil))
            case 2, 3:
                guard let role = Role(rawValue: String(first)) else {
                    throw TokenFileError("line \(number): unknown role '\(first)' (admin, client or worker)")
                }
                var queues: [String]?
                if line.count == 3 {
                    guard role == .worker else {
                        throw TokenFileError("line \(number): only a worker token takes a list of queues")
                    }
                    let names = line[2].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                    guard !names.contains(where: \.isEmpty) else {
                        throw TokenFileError("line \(number): an empty queue name in the list")
                    }
                    queues = names
                }
                entry = Entry(token: Array(line[1].utf8), grant: Grant(role: role, queues: queues))
            default:
                throw TokenFileError("line \(number): expected TOKEN or ROLE TOKEN [QUEUE,...]")
            }
            guard !entries.contains(where: { $0.token == entry.token }) else {
                throw TokenFileError("line \(number): a token given twice")
            }
            entries.append(entry)
        }
        // No token would let in every hello that sends "" (or, by a client's default, no token at all).
        guard !entries.isEmpty else { throw TokenFileError("it is empty: no token, only blanks or comments") }
        self.entries = entries
    }

    /// The rights of `token`, or nil for a token not in the file. Compares with every token, each in time that
    /// depends only on the lengths, so the time taken tells nothing about which one matched or how closely.
    public func grant(for token: String) -> Grant? {
        let given = Array(token.utf8)
        var found: Grant?
        for entry in entries where constantTimeEquals(given, entry.token) { found = entry.grant }
        return found
    }

    /// Whether `role` may call `method` (SPEC §12). `hello` is always allowed here; what it asks for is checked
    /// by `mayServe`.
    public static func allows(_ role: Role, _ method: String) -> Bool {
        switch role {
        case .admin: return true
        case .client: return !(method.hasPrefix("task.") || method == "worker.quiet")
        case .worker:
            return method.hasPrefix("task.")
                || ["hello", "worker.quiet", "future.resolve", "future.reject", "stats"].contains(method)
        }
    }

    /// Whether a session with `grant` may say `hello` as a worker of `queues`.
    public static func mayServe(_ grant: Grant, queues: [String]) -> Bool {
        switch grant.role {
        case .admin: return true
        case .client: return false
        case .worker: return grant.queues.map { allowed in queues.allSatisfy(allowed.contains) } ?? true
        }
    }
}

/// Why a token file was refused.
public struct TokenFileError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
