import Foundation
import Glibc

/// A blocking HTTP/1.1 client for one connection to 127.0.0.1, to test `flowlined --http` byte for byte (no
/// URLSession: its retries and caches would hide what the daemon did). Every read is bounded by `timeout`.
public final class HTTPProbe {
    public struct Response: CustomStringConvertible {
        public var status: Int
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]
        public var text: String { String(decoding: body, as: UTF8.self) }
        public func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
        public var description: String { "\(status) \(text.prefix(500))" }
    }

    public enum Failure: Error, CustomStringConvertible {
        case system(String, Int32)
        case closed
        case malformed(String)
        public var description: String {
            switch self {
            case .system(let call, let code): "\(call): \(String(cString: strerror(code)))"
            case .closed: "the connection closed before a whole answer"
            case .malformed(let why): "malformed answer: \(why)"
            }
        }
    }

    private let fd: Int32
    private var buffer: [UInt8] = []

    public init(port: Int, timeout: Double = 10) throws {
        do {
            fd = try LoopbackSocket.connect(port: port)
        } catch let failure as LoopbackSocket.Failure {
            throw Failure.system(failure.call, failure.code)
        }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { Glibc.close(fd) }

    /// One GET on a fresh connection.
    public static func get(
        port: Int,
        _ path: String,
        headers: [(String, String)] = []
    ) throws -> Response {
        let probe = try HTTPProbe(port: port)
        return try probe.request("GET", path, headers: headers)
    }

    /// Sends a request (with `Host`, and `Content-Length` for a body) and reads its answer.
    public func request(
        _ method: String,
        _ path: String,
        headers: [(String, String)] = [],
        body: [UInt8] = []
    ) throws -> Response {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !body.isEmpty { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        try send(Array(head.utf8) + body)
        return try readResponse(headOnly: method == "HEAD")
    }

    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure.system("send", errno) }
            offset += n
        }
    }

    /// Reads one answer; its body by `Content-Length`.
    public func readResponse(headOnly: Bool = false) throws -> Response {
        var headEnd: Int?
        while headEnd == nil {
            if let i = find([13, 10, 13, 10]) { headEnd = i } else { try fill() }
        }
        let head = String(decoding: buffer[..<headEnd!], as: UTF8.self)
        buffer.removeFirst(headEnd! + 4)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw Failure.malformed(head) }
        let headers = lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let length = headOnly ? 0 : Int(headers.first { $0.0.lowercased() == "content-length" }?.1 ?? "0") ?? 0
        while buffer.count < length { try fill() }
        let body = Array(buffer[..<length])
        buffer.removeFirst(length)
        return Response(status: status, headers: headers, body: body)
    }

    /// Whether the daemon closed the connection (reads EOF within the timeout).
    public func isClosedByPeer() -> Bool {
        do {
            while true { try fill() }
        } catch {
            if case Failure.closed = error { return true }
            return false
        }
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n == 0 { throw Failure.closed }
        if n < 0 { throw Failure.system("recv", errno) }
        buffer += chunk[..<n]
    }

    private func find(_ needle: [UInt8]) -> Int? {
        guard buffer.count >= needle.count else { return nil }
        for i in 0...(buffer.count - needle.count) where buffer[i] == needle[0] {
            if Array(buffer[i..<(i + needle.count)]) == needle { return i }
        }
        return nil
    }
}
