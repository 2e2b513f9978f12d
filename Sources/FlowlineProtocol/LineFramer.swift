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
        var start = chunk.startIndex
        while start < chunk.endIndex {
            guard let newline = chunk[start...].firstIndex(of: ASCII.newline) else {
                append(chunk[start...], to: &frames)
                break
            }
            let rest = chunk[start..<newline]
            start = newline + 1
            if isDiscarding {
                isDiscarding = false
            } else if partial.count + rest.count > maxLineBytes {
                partial.removeAll(keepingCapacity: true)
                frames.append(.tooLong)
            } else if partial.isEmpty {
                // The whole line is in this chunk: copy it once, straight from the chunk.
                emit(Array(rest), to: &frames)
            } else {
                partial.append(contentsOf: rest)
                emit(partial, to: &frames)
                partial.removeAll(keepingCapacity: true)
            }
        }
        return frames
    }

    /// Buffers the start of a line whose end is not in this chunk, unless that passes the limit.
    private mutating func append(_ bytes: ArraySlice<UInt8>, to frames: inout [Frame]) {
        guard !isDiscarding else { return }
        if partial.count + bytes.count > maxLineBytes {
            // Drop what is held too, so a hostile line never costs more than maxLineBytes of memory.
            partial = []
            isDiscarding = true
            frames.append(.tooLong)
        } else {
            partial.append(contentsOf: bytes)
        }
    }

    private func emit(_ line: [UInt8], to frames: inout [Frame]) {
        var line = line
        if line.last == ASCII.carriageReturn { line.removeLast() }
        if !line.isEmpty { frames.append(.line(line)) }
    }
}
