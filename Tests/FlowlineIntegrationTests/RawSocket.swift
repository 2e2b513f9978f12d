import FlowlineTestSupport
import Glibc

/// A plain blocking TCP socket to 127.0.0.1, for peers that must misbehave below what LineClient allows:
/// connect and never read, or hold thousands of idle connections without a loop each.
final class RawSocket {
    private let fd: Int32

    init(port: Int) throws {
        fd = try Self.connectLoopback(port: port)
    }

    /// A blocking TCP socket connected to 127.0.0.1:`port`.
    static func connectLoopback(port: Int) throws -> Int32 { try LoopbackSocket.connect(port: port) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(call: "send", code: errno) }
            offset += n
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var call: String
        var code: Int32
        var description: String { "\(call): \(String(cString: strerror(code)))" }
    }
}
