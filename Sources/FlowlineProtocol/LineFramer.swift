/// Splits a byte stream into lines at `\n`, stripping one trailing `\r`, and never buffers more than
/// `maxLineBytes` of one line.
///
/// A line's length is counted without its `\n` but with a `\r` before it, so with CRLF a line can carry
/// `maxLineBytes - 1` bytes of content. When a line passes the limit, `.tooLong` is reported once, as soon as
/// the limit is passed, and the rest of that line (up to and including its `\n`) is dropped as it arrives. Empty
/// lines (also a lone `\r`) are skipped.
public struct LineFramer: Sendable {
    /// One result of framing.
    public enum Frame: Equatable, Sendable {
        /// A complete line without its `\n` (or `\r\n`).
        case line([UInt8])
        /// A line passed `maxLineBytes`; the server answers -32004 with a null id.
        case tooLong
    }

    /// One result of framing, handed to `feed(_:_:)`'s body without copying the line.
    public enum FrameSlice {
        /// A complete line without its `\n` (or `\r\n`): a slice of the chunk, or of the framer's buffer for a
        /// line that arrived in pieces. Valid only during the call; copy it to keep it.
        case line(ArraySlice<UInt8>)
        /// A line passed `maxLineBytes`; the server answers -32004 with a null id.
        case tooLong
    }

    /// The most bytes one line may have.
    public let maxLineBytes: Int
    // The start of a line whose `\n` has not arrived yet; never longer than maxLineBytes.
    private var partial: [UInt8] = []
    // True while dropping the rest of a line already reported as too long.
    private var isDiscarding = false

    /// Creates a framer that accepts lines of at most `maxLineBytes` bytes.
    public init(maxLineBytes: Int) {
        precondition(maxLineBytes > 0, "maxLineBytes must be positive, got \(maxLineBytes)")
        self.maxLineBytes = maxLineBytes
    }

    /// The bytes held for an unfinished line (at most `maxLineBytes`).
    public var bufferedBytes: Int { partial.count }

    /// Feeds one chunk and returns the frames it completes, in order.
    public mutating func feed(_ chunk: [UInt8]) -> [Frame] {
        feed(chunk[...])
    }

    /// Feeds one chunk and returns the frames it completes, in order.
    public mutating func feed(_ chunk: ArraySlice<UInt8>) -> [Frame] {
        var frames: [Frame] = []
        feed(chunk) { frame in
            switch frame {
            case .line(let line): frames.append(.line(Array(line)))
            case .tooLong: frames.append(.tooLong)
            }
        }
        return frames
    }

    /// Feeds one chunk and calls `body` with each frame it completes, in order. A line that is whole in the chunk
    /// is handed over as a slice of it, so a reader that only parses its lines copies and allocates nothing per
    /// line. `body` must not use this framer.
    public mutating func feed(_ chunk: ArraySlice<UInt8>, _ body: (FrameSlice) -> Void) {
        var start = chunk.startIndex
        while start < chunk.endIndex {
            guard let newline = Self.firstNewline(in: chunk, from: start) else {
                append(chunk[start...], body)
                break
            }
            let rest = chunk[start..<newline]
            start = newline + 1
            if isDiscarding {
                isDiscarding = false
            } else if partial.count + rest.count > maxLineBytes {
                partial.removeAll(keepingCapacity: true)
                body(.tooLong)
            } else if partial.isEmpty {
                Self.emit(rest, body)
            } else {
                partial.append(contentsOf: rest)
                Self.emit(partial[...], body)
                partial.removeAll(keepingCapacity: true)
            }
        }
    }

    /// Feeds one chunk as `feed(_:_:)` does, but stops after the first frame for which `body` returns false, and
    /// returns the index of the first byte of `chunk` not consumed (`chunk.endIndex` when all were). The framer is
    /// then between lines, so the rest can be fed later, to this framer or to a new one: the daemon stops reading a
    /// peer whose output is over its bound and keeps the rest of the chunk until the peer drains. `body` must not
    /// use this framer.
    public mutating func feed(_ chunk: ArraySlice<UInt8>, while body: (FrameSlice) -> Bool) -> Int {
        var start = chunk.startIndex
        while start < chunk.endIndex {
            guard let newline = Self.firstNewline(in: chunk, from: start) else {
                // The chunk is consumed either way: its end waits for a newline, or is dropped as too long.
                append(chunk[start...]) { _ = body($0) }
                return chunk.endIndex
            }
            let rest = chunk[start..<newline]
            start = newline + 1
            var more = true
            if isDiscarding {
                isDiscarding = false
            } else if partial.count + rest.count > maxLineBytes {
                partial.removeAll(keepingCapacity: true)
                more = body(.tooLong)
            } else if partial.isEmpty {
                Self.emit(rest) { more = body($0) }
            } else {
                partial.append(contentsOf: rest)
                Self.emit(partial[...]) { more = body($0) }
                partial.removeAll(keepingCapacity: true)
            }
            if !more { return start }
        }
        return chunk.endIndex
    }

    /// Buffers the start of a line whose end is not in this chunk, unless that passes the limit.
    private mutating func append(_ bytes: ArraySlice<UInt8>, _ body: (FrameSlice) -> Void) {
        guard !isDiscarding else { return }
        if partial.count + bytes.count > maxLineBytes {
            // Drop what is held too, so a hostile line never costs more than maxLineBytes of memory.
            partial = []
            isDiscarding = true
            body(.tooLong)
        } else {
            partial.append(contentsOf: bytes)
        }
    }

    /// The index of the first `\n` in `chunk` at or after `start`. A loop over the chunk's span: the generic
    /// `firstIndex(of:)` of a slice spent some eight instructions a byte.
    private static func firstNewline(in chunk: ArraySlice<UInt8>, from start: Int) -> Int? {
        let from = start - chunk.startIndex
        let bytes = chunk.span.extracting(from...)
        // Over the span's own indices, so that the optimizer can drop the bounds check of each read.
        for i in bytes.indices where bytes[i] == ASCII.newline { return start + i }
        return nil
    }

    private static func emit(_ line: ArraySlice<UInt8>, _ body: (FrameSlice) -> Void) {
        // dropLast, not removeLast: shrinking a slice in place could copy the buffer it shares.
        let line = line.last == ASCII.carriageReturn ? line.dropLast() : line
        if !line.isEmpty { body(.line(line)) }
    }
}
