/// The release of Flowline that this build is (X.Y.Z): `hello`'s `version`, and both executables' `--version`
/// (`flowlined 0.2.0`, `flowline 0.2.0`).
public let flowlineVersion = "0.2.0"

/// An address as users write it (SPEC §7): `host:port` with a host name (`localhost:7420`), an IPv4 literal
/// (`127.0.0.1:7420`) or a bracketed IPv6 literal (`[::1]:7420`). Names are resolved where the socket is made.
public struct HostPort: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Reads `text`; nil when it is not one of the forms above, the host is empty, or the port is not in
    /// `ports`. An IPv6 literal must be bracketed: `::1:7420` is refused rather than guessed at.
    public init?(parsing text: String, ports: ClosedRange<Int> = 1...65535) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":"), host.contains(":") else { return nil }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.firstIndex(of: ":"), text.lastIndex(of: ":") == colon else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "/" }),
            portText.allSatisfy({ $0.isASCII && $0.isNumber }), portText.count <= 5,
            let port = Int(portText), ports.contains(port)
        else { return nil }
        self.init(host: String(host), port: port)
    }

    /// `host:port`, with an IPv6 host bracketed.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
