import FlowlineProtocol
import FlowlineTestSupport
import Foundation
import Testing

/// SPEC §8: a resolution re-sent with a `resolution_id` already applied to its key changes nothing and answers the
/// first answer's `matched`, across a SIGKILL restart (from the journal, and from a checkpoint).
@Suite(.timeLimit(.minutes(2)))
struct ResolutionIDTests {
    private func lastSeq(_ f: Fixture) throws -> JSON? { try f.client().result("stats")["journal"]?["last_seq"] }

    @Test(arguments: [false, true])
    func aResendAfterARestartAnswersTheFirstMatchedAndChangesNothing(checkpoint: Bool) throws {
        let arguments = checkpoint ? ["--checkpoint-events", "1"] : []
        let f = try Fixture(sync: "full", arguments: arguments)
        let worker = try f.worker()
        _ = try f.client().submit(#"{"name":"approval","id":"a","tasks":[{"id":"t","handler":"h"}]}"#)
        let lease = try worker.nextTask()["lease"]!.stringValue!
        _ = try worker.result("task.await", #"{"lease":"\#(lease)","future":{"key":"k"}}"#)
        let matched = try f.client().result("future.resolve", #"{"key":"k","result":1,"resolution_id":"r1"}"#)
        #expect(matched["matched"] == .int(1))
        // Kept: nothing waits on "k2".
        let kept = try f.client().result("future.reject", #"{"key":"k2","error":"no","resolution_id":"r2"}"#)
        #expect(kept["matched"] == .int(0))
        try f.crashAndRestart(sync: "full", arguments: arguments)
        let before = try lastSeq(f)
        let again = try f.client().result("future.resolve", #"{"key":"k","result":2,"resolution_id":"r1"}"#)
        #expect(again["matched"] == .int(1), "the first answer again, though no task waits now")
        let keptAgain = try f.client().result("future.reject", #"{"key":"k2","error":"no","resolution_id":"r2"}"#)
        #expect(keptAgain["matched"] == .int(0))
        #expect(try lastSeq(f) == before, "nothing journaled: nothing changed")
        let record = try f.client().result("workflow.get", #"{"workflow_id":"a"}"#)
        #expect(record.task("t")?["result"] == .int(1))
        // Without the id a resolve of "k" now is kept: the re-send above was not.
        #expect(try f.client().result("future.resolve", #"{"key":"k","result":3}"#)["matched"] == .int(0))
    }

    /// The id is forgotten after `--future-retention`, on a timer the restart arms again: a re-send is then new.
    @Test func anIDIsForgottenAfterTheRetentionAcrossARestart() throws {
        let arguments = ["--future-retention", "2s"]
        let f = try Fixture(arguments: arguments)
        _ = try f.client().result("future.resolve", #"{"key":"k","result":1,"resolution_id":"r"}"#)
        try f.crashAndRestart(arguments: arguments)
        let before = try lastSeq(f)?.int64Value ?? 0
        _ = try f.client().result("future.resolve", #"{"key":"k","result":1,"resolution_id":"r"}"#)
        #expect(try lastSeq(f)?.int64Value == before, "still remembered")
        // future_expired and resolution_expired, at the retention.
        let deadline = ContinuousClock.now + .seconds(10)
        while try lastSeq(f)?.int64Value ?? 0 < before + 2 && ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(try lastSeq(f)?.int64Value == before + 2)
        let again = try f.client().result("future.resolve", #"{"key":"k","result":2,"resolution_id":"r"}"#)
        #expect(again["matched"] == .int(0))
        #expect(try lastSeq(f)?.int64Value == before + 4, "a new resolution: kept, and its id remembered")
    }

    @Test func aBadResolutionIDIsRefusedAndChangesNothing() throws {
        let f = try Fixture()
        let client = try f.client()
        let long = String(repeating: "x", count: 1025)
        for id in [#""\#(long)""#, #""""#, "7", "{}"] {
            let answer = try client.call("future.resolve", #"{"key":"k","result":1,"resolution_id":\#(id)}"#)
            #expect(answer["error"]?["code"] == .int(-32602))
            #expect(answer["error"]?["data"]?["path"] == .string("resolution_id"))
        }
        let fits = String(repeating: "x", count: 1024)
        let answer = try client.result("future.resolve", #"{"key":"k","result":1,"resolution_id":"\#(fits)"}"#)
        #expect(answer["matched"] == .int(0))
        #expect(try client.result("future.resolve", #"{"key":"k","result":2}"#)["matched"] == .int(0))
    }
}
