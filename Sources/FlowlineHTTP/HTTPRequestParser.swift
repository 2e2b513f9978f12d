/// Why a request could not be read: the status to answer with (400, 413, 431, 501, 505) and a one-line reason.
/// The connection closes after it, since where the next request starts is unknown.
public struct HTTPParseError: Error, Sendable, Equatable {
    public var status: Int
    public var reason: String

    public init(status: Int, reason: String) {
        self.status = status
        self.reason = reason
    }
}

/// Reads HTTP/1.x requests from the bytes of one connection as they arrive, one complete request at a time
/// (pipelined requests wait in the buffer). Bounded: the request line and fields together at most
/// `maxHeaderBytes`, at most `maxHeaderCount` fields, a body (by `Content-Length` only) at most `maxBodyBytes`.
public struct HTTPRequestParser: Sendable {
    public let maxHeaderBytes: Int
    public let maxHeaderCount: Int
    public let maxBodyBytes: Int

    private var buffer: [UInt8] = []
    /// Where the search for the end of the head resumes: bytes before it hold no blank line.
    private var scanned = 0
    /// Once the head is read: the request waiting for its body of this many bytes.
    private var pending: (request: HTTPRequest, bodyBytes: Int)?

    public init(maxHeaderBytes: Int = 16 * 1024, maxHeaderCount: Int = 100, maxBodyBytes: Int = 64 * 1024) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
    }

    /// Whether part of a request has been received and not yet returned (for the slow-client timeout).
    public var hasPartialRequest: Bool { !buffer.isEmpty || pending != nil }

    /// Takes in bytes read from the connection.
    public mutating func append(_ bytes: some Collection<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete request, nil if more bytes are needed, or the error that ends the connection.
    public mutating func next() throws(HTTPParseError) -> HTTPRequest? {
        if pending == nil {
            // Blank lines before a request line are ignored (RFC 9112 §2.2).
            var skip = 0
            while skip < buffer.count && (buffer[skip] == 0x0D || buffer[skip] == 0x0A) { skip += 1 }
            if skip > 0 {
                buffer.removeFirst(skip)
                scanned = 0
            }
            guard let headEnd = findHeadEnd() else {
                if buffer.count > maxHeaderBytes {
                    throw HTTPParseError(status: 431, reason: "request header fields too large")
                }
                return nil
            }
            guard headEnd.bodyStart <= maxHeaderBytes + 4 else {
                throw HTTPParseError(status: 431, reason: "request header fields too large")
            }
            let request = try parseHead(buffer[..<headEnd.headEnd])
            buffer.removeFirst(headEnd.bodyStart)
            scanned = 0
            pending = (request, try bodyLength(of: request))
        }
        guard let (request, length) = pending, buffer.count >= length else { return nil }
        var complete = request
        complete.body = Array(buffer[..<length])
        buffer.removeFirst(length)
        pending = nil
        return complete
    }

    /// The end of the head (the blank line): where its last line ends and where the body starts.
    private mutating func findHeadEnd() -> (headEnd: Int, bodyStart: Int)? {
        var i = max(0, scanned - 3)
        while i < buffer.count {
            if buffer[i] == 0x0A {
                // LF LF, or LF CR LF.
                if i + 1 < buffer.count && buffer[i + 1] == 0x0A { return (i, i + 2) }
                if i + 2 < buffer.count && buffer[i + 1] == 0x0D && buffer[i + 2] == 0x0A { return (i, i + 3) }
            }
            i += 1
        }
        scanned = buffer.count
        return nil
    }

    private func parseHead(_ head: ArraySlice<UInt8>) throws(HTTPParseError) -> HTTPRequest {
        var lines = head.split(separator: 0x0A, omittingEmptySubsequences: false).map { line in
            line.last == 0x0D ? line.dropLast() : line
        }
        let requestLine = lines.removeFirst()
        let parts = requestLine.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy(isTokenByte),
            !parts[1].isEmpty, parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F }),
            let method = String(validating: parts[0], as: UTF8.self),
            let target = String(validating: parts[1], as: UTF8.self)
        else { throw HTTPParseError(status: 400, reason: "malformed request line") }
        guard target.hasPrefix("/") || (method == "OPTIONS" && target == "*") else {
            throw HTTPParseError(status: 400, reason: "the request target must be a path")
        }
        let minor: Int
        switch Array(parts[2]) {
        case Array("HTTP/1.1".utf8): minor = 1
        case Array("HTTP/1.0".utf8): minor = 0
        default:
            if parts[2].starts(with: "HTTP/".utf8) {
                throw HTTPParseError(status: 505, reason: "only HTTP/1.0 and HTTP/1.1 are served")
            }
            throw HTTPParseError(status: 400, reason: "malformed request line")
        }
        guard lines.count <= maxHeaderCount else {
            throw HTTPParseError(status: 431, reason: "more than \(maxHeaderCount) header fields")
        }
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(lines.count)
        for line in lines {
            // A field folded onto the next line (obs-fold) is refused, as RFC 9112 §5.2 allows.
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon != line.startIndex,
                line[..<colon].allSatisfy(isTokenByte),
                line[(colon + 1)...].allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) })
            else { throw HTTPParseError(status: 400, reason: "malformed header field") }
            let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
            let value = String(decoding: line[(colon + 1)...], as: UTF8.self)
            headers.append((name, String(Substring(value).trimmingSpaces)))
        }
        if minor == 1 && !headers.contains(where: { $0.name == "host" }) {
            throw HTTPParseError(status: 400, reason: "an HTTP/1.1 request needs a Host field")
        }
        return HTTPRequest(method: method, target: target, minorVersion: minor, headers: headers)
    }

    private func bodyLength(of request: HTTPRequest) throws(HTTPParseError) -> Int {
        if request.header("transfer-encoding") != nil {
            throw HTTPParseError(status: 501, reason: "Transfer-Encoding is not supported; send Content-Length")
        }
        let lengths = request.headers.filter { $0.name == "content-length" }.map(\.value)
        guard let first = lengths.first else { return 0 }
        guard lengths.allSatisfy({ $0 == first }), !first.isEmpty, first.utf8.count <= 18,
            first.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let length = Int(first)
        else { throw HTTPParseError(status: 400, reason: "bad Content-Length") }
        guard length <= maxBodyBytes else {
            throw HTTPParseError(status: 413, reason: "the body is over \(maxBodyBytes) bytes")
        }
        return length
    }
}

/// RFC 9110 `tchar`.
func isTokenByte(_ b: UInt8) -> Bool {
    switch b {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"):
        true
    default: Array("!#$%&'*+-.^_`|~".utf8).contains(b)
    }
}
