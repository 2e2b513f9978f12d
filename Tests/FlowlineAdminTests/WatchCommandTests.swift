import FlowlineProtocol
import FlowlineTestSupport
import Foundation
import Testing

/// `watch` on a pseudo-terminal (through util-linux `script`) and on a pipe, on workflows that take seconds.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct WatchCommandTests {
    static let chain = #"""
        {"name":"chain","id":"c1","tasks":[{"id":"a","handler":"h"},{"id":"b","handler":"h","deps":["a"]},
         {"id":"c","handler":"h","deps":["b"]},{"id":"d","handler":"h","deps":["c"]}]}
        """#

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script")))
    func redrawsTheBarInPlaceOnATerminal() throws {
        let fixture = try AdminFixture()
        _ = try fixture.client().submit(Self.chain)
        let worker = BackgroundWorker(port: fixture.daemon.port, delay: 0.6)
        defer { #expect(throws: Never.self) { try worker.stop() } }
        let binary = try #require(ToolProcess.binary())
        let watch = try ToolProcess.runProgram(
            "/usr/bin/script",
            ["-qfec", "\(binary) watch c1 --server \(fixture.server) --interval 0.2", "/dev/null"],
            timeout: 30
        )
        #expect(watch.status == 0, "\(watch)")
        let redraws = watch.stdout.components(separatedBy: "\r\u{1B}[2K[").dropFirst()
        #expect(redraws.count >= 5, "redrawn in place several times: \(watch)")
        #expect(redraws.contains { $0.hasPrefix("#######.......") && $0.contains("1/4 done") }, "\(watch)")
        #expect(redraws.last?.hasPrefix("##############################] c1 4/4 done") == true, "\(watch)")
        #expect(watch.stdout.hasSuffix("c1 completed\r\n"), "\(watch)")
    }

    @Test func printsPlainLinesOffATerminalAndExits1OnFailure() throws {
        let fixture = try AdminFixture()
        _ = try fixture.client().submit(Self.chain)
        let worker = BackgroundWorker(port: fixture.daemon.port, delay: 0.4, failing: ["c"])
        defer { #expect(throws: Never.self) { try worker.stop() } }
        let watch = try fixture.tool(["watch", "c1", "--interval", "0.1"])
        #expect(watch.status == 1, "\(watch)")
        #expect(!watch.stdout.contains("\u{1B}"), "no escape codes in a pipe: \(watch)")
        let lines = watch.stdout.split(separator: "\n")
        #expect(lines.contains("c1 1/4 done, 1 running, 2 waiting, 0 failed (running)"), "\(watch)")
        #expect(lines.contains("c1 4/4 done, 0 running, 0 waiting, 1 failed (failed)"), "\(watch)")
        #expect(lines.last == "c1 failed", "\(watch)")
        #expect(Set(lines).count == lines.count, "a line only when something changed: \(watch)")
    }
}
