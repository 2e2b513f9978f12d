import FlowlineProtocol
import Testing

struct HostPortTests {
    @Test(arguments: [
        ("localhost:7420", "localhost", 7420),
        ("127.0.0.1:1", "127.0.0.1", 1),
        ("[::1]:7420", "::1", 7420),
        ("[fe80::1%lo]:65535", "fe80::1%lo", 65535),
        ("flowline-1.example.internal:80", "flowline-1.example.internal", 80),
    ])
    func takesNamesIPv4AndBracketedIPv6(text: String, host: String, port: Int) throws {
        let address = try #require(HostPort(parsing: text))
        #expect(address.host == host && address.port == port)
        #expect(address.description == text)
    }

    @Test(arguments: [
        "localhost", ":7420", "::1:7420", "[::1]", "[::1]7420", "[127.0.0.1]:1", "host:0", "host:65536", "host:-1",
        "host:+1", "host: 1", "a b:1", "host:123456", "[::1:7420", "",
    ])
    func refusesWhatIsNotHostColonPort(text: String) {
        #expect(HostPort(parsing: text) == nil, "\(text)")
    }

    @Test func portZeroOnlyWhereAllowed() {
        #expect(HostPort(parsing: "localhost:0") == nil)
        #expect(HostPort(parsing: "localhost:0", ports: 0...65535)?.port == 0)
    }
}
