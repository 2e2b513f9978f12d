internal import CLibUV

/// IP literal parsing and formatting for the TCP wrappers (`cuv_ip_addr`, `cuv_tcp_address`).
enum SocketAddress {
    /// `host` (an IPv4 or IPv6 literal, no names) and `port` as a socket address. Throws `UV_EINVAL` otherwise.
    static func parse(host: String, port: Int) throws(UVError) -> sockaddr_storage {
        guard (0...65535).contains(port) else { throw UVError(call: "uv_ip6_addr", code: UV_EINVAL.rawValue) }
        var storage = sockaddr_storage()
        let rc = unsafe host.withCString { unsafe cuv_ip_addr($0, Int32(port), &storage) }
        // cuv_ip_addr tries uv_ip4_addr first; the code comes from uv_ip6_addr, the last one tried.
        try check(rc, "uv_ip6_addr")
        return storage
    }

    /// `host` (a name such as `localhost`, an IPv4 or an IPv6 literal) and `port` as socket addresses, in the
    /// resolver's order; a literal is taken as it is, without asking the resolver. Throws `UV_EINVAL` for a bad
    /// port, or the resolver's `UV_EAI_*` code for a name it does not know.
    static func resolve(host: String, port: Int) throws(UVError) -> [sockaddr_storage] {
        if let literal = try? parse(host: host, port: port) { return [literal] }
        guard (0...65535).contains(port) else { throw UVError(call: "getaddrinfo", code: UV_EINVAL.rawValue) }
        var found = [sockaddr_storage](repeating: sockaddr_storage(), count: 16)
        let count = unsafe found.withUnsafeMutableBufferPointer { buffer in
            unsafe host.withCString { unsafe cuv_resolve($0, Int32(port), buffer.baseAddress, Int32(buffer.count)) }
        }
        try check(count, "getaddrinfo")
        return Array(found.prefix(Int(count)))
    }

    /// The local or remote address of `tcp` as host text, port and family.
    static func address(
        of tcp: UnsafeMutablePointer<uv_tcp_t>,
        peer: Bool
    ) throws(UVError) -> (host: String, port: Int, isIPv6: Bool) {
        var text = [CChar](repeating: 0, count: 64)
        var port: Int32 = 0
        var isIPv6: Int32 = 0
        let rc = unsafe text.withUnsafeMutableBufferPointer {
            unsafe cuv_tcp_address(tcp, peer ? 1 : 0, $0.baseAddress, $0.count, &port, &isIPv6)
        }
        try check(rc, peer ? "uv_tcp_getpeername" : "uv_tcp_getsockname")
        let host = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return (host, Int(port), isIPv6 != 0)
    }

    /// The remote address of `tcp` as `"127.0.0.1:54321"` or `"[::1]:54321"`, or `nil` if it has none.
    static func peerDescription(of tcp: UnsafeMutablePointer<uv_tcp_t>) -> String? {
        guard let address = try? unsafe address(of: tcp, peer: true) else { return nil }
        return address.isIPv6 ? "[\(address.host)]:\(address.port)" : "\(address.host):\(address.port)"
    }
}
