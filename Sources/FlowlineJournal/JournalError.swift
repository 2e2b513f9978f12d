internal import FlowlineLMDB

/// Why the journal could not do what was asked.
public struct JournalError: Error, Equatable, CustomStringConvertible {
    /// The kind of failure, for callers that decide by it.
    public enum Code: Sendable, Equatable {
        /// The map reached `maxMapSize`, or the disk is full: nothing of the failed call was written. The server
        /// answers -32005 and stops taking writes.
        case outOfSpace
        /// The journal was written by a newer Flowline (its `format` is above this build's).
        case unsupportedFormat
        /// The files are not a Flowline journal, or a record or key breaks the layout.
        case corrupt
        /// Another process (a running daemon, whose pid `message` names) holds the journal for writing.
        case inUse
        /// Any other storage failure; `message` names the LMDB call and its error.
        case storage
    }

    /// The kind of failure.
    public let code: Code
    /// What failed, in one line (for logs and the start-up error line).
    public let message: String

    /// Creates an error of `code` saying `message`.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    init(_ error: LMDBError) {
        self.init(error.isOutOfSpace ? .outOfSpace : error.isCorrupt ? .corrupt : .storage, error.description)
    }

    /// Whether the journal cannot take writes for lack of space (map or disk): the -32005 case.
    public var isOutOfSpace: Bool { code == .outOfSpace }

    /// The message.
    public var description: String { message }
}
