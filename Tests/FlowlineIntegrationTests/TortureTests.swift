import FlowlineTestSupport
import Foundation
import Testing

/// The short form of `tools/torture`: a `--sync full` daemon SIGKILLed at random moments while workflows run.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct TortureTests {
    @Test func nothingAcknowledgedIsLostAcrossRandomKills() throws {
        let seed =
            ProcessInfo.processInfo.environment["FLOWLINE_TORTURE_SEED"].flatMap(UInt64.init)
            ?? UInt64(Date().timeIntervalSince1970 * 1000) & 0xFFFF_FFFF
        var options = Torture.Options(seed: seed)
        options.workflows = 200
        options.kills = 25
        options.inFlight = 40
        options.maxKillGapMilliseconds = 300
        let directory = try TemporaryDirectory()
        let report = try Torture(options: options, dataDirectory: directory.path + "/data") { print($0) }.run()
        print("torture: \(report)")
        #expect(report.violations.isEmpty, "seed \(seed): \(report.violations.prefix(20))")
        #expect(report.kills == options.kills + 1, "seed \(seed)")
        #expect(report.acknowledgedCompletions + report.committedUnanswered == report.tasks, "seed \(seed)")
    }
}
