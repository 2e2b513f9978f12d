import Flowline
import FlowlineProtocol
import FlowlineTestSupport
import Foundation
import Testing

/// SPEC §7: `--listen`, `--server` and the client libraries take host names and bracketed IPv6; both
/// executables print their version.
@Suite(.timeLimit(.minutes(2)))
struct AddressTests {
    @Test func aDaemonOnLocalhostIsReachedByNameByTheToolAndTheSwiftClient() async throws {
        let directory = try TemporaryDirectory("flowline-address")
        let daemon = try DaemonProcess(data: directory.path + "/data", listen: "localhost:0")
        // SPEC §8: the first address the name resolves to, printed as the numeric address bound.
        #expect(
            ["flowlined listening on 127.0.0.1:\(daemon.port)", "flowlined listening on [::1]:\(daemon.port)"]
                .contains(daemon.listeningLine),
            "\(daemon.listeningLine)"
        )
        let stats = try ToolProcess.run(["--server", "localhost:\(daemon.port)", "stats", "--json"])
        #expect(stats.status == 0 && stats.stdout.contains("\"workflows\""), "\(stats)")
        let client = try await Client(host: "localhost", port: daemon.port, name: "by-name")
        defer { client.close() }
        let submitted = try await client.submit(Workflow(name: "named", id: "n1") { Step("only") })
        #expect(submitted.workflowID == "n1")
        let listed = try ToolProcess.run(["list", "--server", "localhost:\(daemon.port)"])
        #expect(listed.status == 0 && listed.stdout.contains("n1"), "\(listed)")
    }

    @Test func aDaemonOnBracketedIPv6IsReachedByTheToolAndTheSwiftClient() async throws {
        let directory = try TemporaryDirectory("flowline-address")
        let daemon = try DaemonProcess(data: directory.path + "/data", listen: "[::1]:0")
        #expect(daemon.listeningLine == "flowlined listening on [::1]:\(daemon.port)")
        let stats = try ToolProcess.run(["--server", "[::1]:\(daemon.port)", "stats"])
        #expect(stats.status == 0, "\(stats)")
        let client = try await Client(host: "::1", port: daemon.port, name: "v6")
        defer { client.close() }
        #expect(try await client.stats()["workflows"] != nil)
        // The daemon bound ::1 only: the IPv4 loopback has nobody listening on that port.
        let refused = try ToolProcess.run(["--server", "127.0.0.1:\(daemon.port)", "stats"])
        #expect(refused.status == 2 && refused.stderr.contains("cannot reach"), "\(refused)")
    }

    @Test func badAddressesAreUsageErrorsNamingTheForm() throws {
        let directory = try TemporaryDirectory("flowline-address")
        let unbracketed = try ToolProcess.runProgram(
            try #require(DaemonProcess.binary()),
            ["--listen", "::1:0", "--data", directory.path + "/data"]
        )
        #expect(unbracketed.status != 0 && unbracketed.stderr.contains("[IPv6]"), "\(unbracketed)")
        let tool = try ToolProcess.run(["--server", "::1:7420", "stats"])
        #expect(tool.status == 2 && tool.stderr.contains("HOST:PORT"), "\(tool)")
        // Tests ask the resolver about no name it would have to send to DNS: nothing leaves this machine.
    }

    @Test func bothExecutablesPrintTheirVersion() throws {
        let daemon = try ToolProcess.runProgram(try #require(DaemonProcess.binary()), ["--version"])
        #expect(daemon.status == 0 && daemon.stdout == "flowlined \(flowlineVersion)\n", "\(daemon)")
        let tool = try ToolProcess.run(["--version"])
        #expect(tool.status == 0 && tool.stdout == "flowline \(flowlineVersion)\n", "\(tool)")
    }
}
