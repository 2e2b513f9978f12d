import FlowlineCore
import FlowlineJournal
import FlowlineProtocol
import FlowlineTestSupport
import Foundation
import Testing

/// `replay` and `inspect` on journals with checkpoints and compaction, and `replay --verify` against the checkpoint.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct CheckpointCommandTests {
    /// A checkpoint every 5 events, workflows completed, waiting on a key and running, a kept resolution, then
    /// SIGKILL: the checkpoint matches a replay from scratch, until one workflow's snapshot is altered.
    @Test func verifyPassesAfterSIGKILLAndNamesAnAlteredSnapshot() throws {
        let fixture = try AdminFixture(arguments: ["--checkpoint-events", "5"])
        let client = try fixture.client()
        let worker = try fixture.worker(name: "w1", concurrency: 4)
        _ = try client.submit(#"{"name":"one","id":"done","tasks":[{"id":"only","handler":"h"}]}"#)
        try worker.complete(try worker.nextTask(), result: #"{"ok":1}"#)
        _ = try client.wait("done")
        _ = try client.result("future.resolve", #"{"key":"early","result":"kept"}"#)
        _ = try client.submit(#"{"name":"key","id":"keyed","tasks":[{"id":"wait","handler":"h"}]}"#)
        let waiting = try worker.nextTask()
        _ = try worker.result(
            "task.await",
            #"{"lease":"\#(waiting["lease"]?.stringValue ?? "")","future":{"key":"k1"}}"#
        )
        #expect(try client.submit(diamondDocument(id: "d1")) == "d1")
        try worker.complete(try worker.nextTask())
        _ = try worker.nextTask()  // step2 (or step3), left running through the crash.
        fixture.daemon.crash()

        let inspect = try fixture.offline(["inspect", "--data", fixture.data, "--json"])
        let facts = try JSONParser.parse(Array(inspect.stdout.utf8))
        let checkpointSeq = try #require(facts["checkpoint"]?["seq"]?.int64Value, "\(inspect)")
        #expect(checkpointSeq > 5 && facts["checkpoint"]?["snapshots"]?.int64Value == 3, "\(inspect)")
        #expect(facts["workflows"]?["running"] == .int(2) && facts["workflows"]?["completed"] == .int(1), "\(inspect)")
        let text = try fixture.offline(["inspect", "--data", fixture.data])
        #expect(text.stdout.field("Checkpoint") == "seq \(checkpointSeq), 3 workflow snapshots", "\(text)")

        let verify = try fixture.offline(["replay", "--data", fixture.data, "--verify"])
        #expect(verify.status == 0 && verify.stdout.contains("verified: no differences"), "\(verify)")
        #expect(verify.stdout.contains("checkpoint: 3 workflows at seq \(checkpointSeq) compared"), "\(verify)")

        // The checkpoint and the events after it rebuild what every event from seq 1 does.
        let fromCheckpoint = try fixture.offline(["replay", "--data", fixture.data, "--json"])
        let fromScratch = try fixture.offline(["replay", "--data", fixture.data, "--json", "--from-scratch"])
        let a = try JSONParser.parse(Array(fromCheckpoint.stdout.utf8))
        let b = try JSONParser.parse(Array(fromScratch.stdout.utf8))
        #expect(a["checkpoint_seq"] == .int(checkpointSeq) && b["checkpoint_seq"] == .null, "\(fromCheckpoint)")
        #expect(a["workflows"] == b["workflows"] && a["last_seq"] == b["last_seq"], "\(fromCheckpoint)\n\(fromScratch)")
        #expect(a["workflows"]?.arrayValue?.count == 3)
        let list = try fixture.offline(["replay", "--data", fixture.data])
        #expect(list.stdout.hasPrefix("Replayed checkpoint at seq \(checkpointSeq) (3 snapshots)"), "\(list)")
        #expect(list.stdout.row("keyed")?[2] == "running" && list.stdout.row("done")?[2] == "completed", "\(list)")
        let early = try fixture.offline(["replay", "--data", fixture.data, "--until", "2", "--workflow", "done"])
        #expect(early.status == 0 && early.stdout.row("only")?[1] == "running", "\(early)")
        #expect(early.stderr.contains("--until 2 is before the checkpoint at seq \(checkpointSeq)"), "\(early)")

        try Self.alterSnapshot(of: "done", in: fixture.data) { $0.tasks[0].attempts = 7 }
        let caught = try fixture.offline(["replay", "--data", fixture.data, "--verify"])
        #expect(caught.status == 1, "\(caught)")
        // The checkpoint check names the field; the index check, which starts from the checkpoint, sees it too.
        #expect(caught.stdout.contains("MISMATCH: 2 difference(s)"), "\(caught)")
        #expect(caught.stdout.contains("  done: tasks[only].attempts: replay 1, checkpoint 7\n"), "\(caught)")
        #expect(caught.stdout.contains("  done: the rebuild and its own records rebuild it differently\n"), "\(caught)")
        #expect(!caught.stdout.contains("keyed:") && !caught.stdout.contains("d1:"), "\(caught)")
    }

    /// `inspect` and `replay --verify` while the daemon runs and compacts: the compacted workflow is gone.
    @Test func inspectWhileTheDaemonCompactsShowsCompactedWorkflowsGone() throws {
        let fixture = try AdminFixture(arguments: ["--retention", "0.2s", "--checkpoint-interval", "0.1s"])
        let client = try fixture.client()
        let worker = try fixture.worker()
        _ = try client.submit(#"{"name":"old","id":"old","tasks":[{"id":"a","handler":"h"}]}"#)
        try worker.complete(try worker.nextTask())
        _ = try client.wait("old")
        _ = try client.submit(#"{"name":"live","id":"live","tasks":[{"id":"a","handler":"h","queue":"none"}]}"#)
        var facts: JSON = .null
        let deadline = Date().addingTimeInterval(10)
        repeat {
            usleep(100_000)
            // The daemon compacts at the end of a loop turn; an idle one has none, so give it traffic.
            _ = try client.result("stats")
            let inspect = try fixture.offline(["inspect", "--data", fixture.data, "--json"])
            try #require(inspect.status == 0, "\(inspect)")
            facts = try JSONParser.parse(Array(inspect.stdout.utf8))
        } while facts["workflows"]?["completed"] != .int(0) && Date() < deadline
        #expect(facts["workflows"]?["completed"] == .int(0) && facts["workflows"]?["running"] == .int(1), "\(facts)")
        #expect(facts["checkpoint"]?["seq"]?.int64Value.map { $0 > 0 } == true, "\(facts)")
        let text = try fixture.offline(["inspect", "--data", fixture.data])
        #expect(text.stdout.field("Workflows") == "1: 1 running", "\(text)")
        #expect(text.stdout.field("Oldest running")?.hasPrefix("live (live, running)") == true, "\(text)")
        for extra in [[], ["--from-scratch"]] {
            let replay = try fixture.offline(["replay", "--data", fixture.data] + extra)
            #expect(replay.stdout.row("old") == nil && replay.stdout.row("live")?[2] == "running", "\(replay)")
        }
        let verify = try fixture.offline(["replay", "--data", fixture.data, "--verify", "--server", fixture.server])
        #expect(verify.status == 0 && verify.stdout.contains("verified: no differences"), "\(verify)")
        #expect(verify.stdout.contains("live: 1 workflows compared"), "\(verify)")
    }

    /// Rewrites one workflow's snapshot, as a daemon with a bug in its dirty tracking might, without touching the
    /// events or the checkpoint's globals. The daemon must be stopped.
    static func alterSnapshot(of id: String, in data: String, _ change: (inout Workflow) -> Void) throws {
        let store = try JournalStore(directory: data, sync: .none)
        var found: Workflow?
        try store.forEachSnapshot { bytes in
            let workflow = try SnapshotCodec.decodeWorkflow(bytes)
            if workflow.id.rawValue == id { found = workflow }
        }
        var workflow = try #require(found, "no snapshot of \(id)")
        change(&workflow)
        var batch = JournalBatch()
        batch.snapshots = [(id, SnapshotCodec.encode(workflow))]
        try store.commit(batch)
    }
}
