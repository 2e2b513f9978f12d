import FlowlineProtocol
import FlowlineTestSupport
import Foundation
import Testing

/// `inspect` and `replay` on the data directory of a running daemon, and of one killed with SIGKILL.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct JournalCommandTests {
    @Test func inspectAndReplayReadWhileTheDaemonWrites() throws {
        let fixture = try AdminFixture()
        let writer = BackgroundSubmitter(port: fixture.daemon.port)
        var seen: [Int] = []
        for _ in 0..<6 {
            let inspect = try fixture.offline(["inspect", "--data", fixture.data, "--json"])
            try #require(inspect.status == 0, "\(inspect)")
            let facts = try JSONParser.parse(Array(inspect.stdout.utf8))
            seen.append(Int(facts["events"]?.int64Value ?? -1))
            let replay = try fixture.offline(["replay", "--data", fixture.data, "--verify"])
            #expect(replay.status == 0, "\(replay)")
            #expect(replay.stdout.contains("verified: no differences"), "\(replay)")
        }
        let n = try writer.finish()
        #expect(seen == seen.sorted(), "events never go backwards: \(seen)")
        #expect(seen.first! > 0 && seen.last! < n, "the reads saw the journal grow: \(seen) of \(n)")
        let inspect = try fixture.offline(["inspect", "--data", fixture.data])
        #expect(inspect.status == 0, "\(inspect)")
        #expect(inspect.stdout.field("Events")?.hasPrefix("\(n) (seq 1 to \(n))") == true, "\(inspect)")
        #expect(inspect.stdout.field("Workflows") == "\(n): \(n) running", "\(inspect)")
        #expect(inspect.stdout.field("Oldest running")?.hasPrefix("bg-0 (single, running)") == true, "\(inspect)")
        let list = try fixture.offline(["replay", "--data", fixture.data])
        #expect(list.stdout.row("bg-\(n - 1)")?[1...3] == ["single", "running", "0/1"], "\(list)")
    }

    @Test func replayRebuildsWhatADaemonKilledWithSIGKILLLeft() throws {
        let fixture = try AdminFixture()
        let client = try fixture.client()
        #expect(try client.submit(diamondDocument(id: "d1")) == "d1")
        let worker = try fixture.worker(name: "w1")
        for _ in 0..<3 { try worker.complete(try worker.nextTask(), result: #"{"ok":true}"#) }
        let last = try worker.nextTask()
        #expect(last["task_id"]?.stringValue == "step4")
        fixture.daemon.crash()

        let status = try fixture.offline(["replay", "--data", fixture.data, "--workflow", "d1"])
        #expect(status.status == 0, "\(status)")
        #expect(status.stdout.field("State") == "running", "\(status)")
        #expect(status.stdout.field("Tasks") == "4: 3 completed, 1 running", "\(status)")
        for id in ["step1", "step2", "step3"] {
            let row = try #require(status.stdout.row(id), "\(status)")
            #expect(row[1...3] == ["completed", "1", "w1"], "\(status)")
            #expect(row[7].hasSuffix("s"), "a duration: \(row)")
        }
        #expect(status.stdout.row("step4")?[1...3] == ["running", "1", "w1"], "\(status)")

        // Seq 1 is the submission and seq 2 the first dispatch: only step1 has started then.
        let early = try fixture.offline(["replay", "--data", fixture.data, "--workflow", "d1", "--until", "2"])
        #expect(early.stdout.row("step1")?[1] == "running", "\(early)")
        #expect(early.stdout.row("step2")?[1] == "blocked", "\(early)")

        let inspect = try fixture.offline(["inspect", "--data", fixture.data])
        #expect(inspect.stdout.field("Workflows") == "1: 1 running", "\(inspect)")
        #expect(inspect.stdout.field("Oldest running")?.hasPrefix("d1 (diamond, running)") == true, "\(inspect)")
        let verify = try fixture.offline(["replay", "--data", fixture.data, "--verify"])
        #expect(verify.status == 0 && verify.stdout.contains("verified: no differences"), "\(verify)")

        let json = try fixture.offline(["replay", "--data", fixture.data, "--workflow", "d1", "--json"])
        let record = try JSONParser.parse(Array(json.stdout.utf8))
        #expect(record["workflow_id"]?.stringValue == "d1")
        #expect(record["tasks"]?[0]?["result"] == ["ok": true])
    }

    @Test func badDirectoriesAndIdsAreOneLineAndExit2() throws {
        let fixture = try AdminFixture()
        let missing = try fixture.offline(["inspect", "--data", fixture.directory.path + "/nowhere"])
        #expect(missing.status == 2, "\(missing)")
        #expect(missing.stderr.hasPrefix("flowline: cannot read journal at "), "\(missing)")
        #expect(missing.stderr.split(separator: "\n").count == 1, "\(missing)")
        let unknown = try fixture.offline(["replay", "--data", fixture.data, "--workflow", "nope"])
        #expect(
            unknown.status == 2
                && unknown.stderr == "flowline: no workflow nope in the journal at \(fixture.data) (through seq 0)\n",
            "\(unknown)"
        )
        let usage = try fixture.offline(["inspect"])
        #expect(usage.status == 2 && usage.stderr.split(separator: "\n").count == 1, "\(usage)")
    }
}

/// Submits one-task workflows (`bg-0`, `bg-1`, …) from a thread of its own, about 400 a second, until stopped.
final class BackgroundSubmitter: @unchecked Sendable {
    // `lock` guards `failure`, `count` and `isStopping`, which the submitting thread and the test share.
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var failure: (any Error)?
    private var count = 0
    private var isStopping = false

    init(port: Int) {
        let thread = Thread { [self] in
            do {
                let client = try LineClient(port: port)
                while !lock.withLock({ isStopping }) {
                    let i = lock.withLock { count }
                    _ = try client.submit(#"{"name":"single","id":"bg-\#(i)","tasks":[{"id":"only","handler":"h"}]}"#)
                    lock.withLock { count += 1 }
                    // A steady trickle, not a flood: the reads must overlap writes, not drown in them.
                    usleep(2_000)
                }
            } catch {
                lock.withLock { failure = error }
            }
            done.signal()
        }
        thread.start()
    }

    /// Stops, waits (at most 30 s) for the last submission, and returns how many were acknowledged.
    func finish() throws -> Int {
        lock.withLock { isStopping = true }
        if done.wait(timeout: .now() + 30) == .timedOut { throw SubmitterTimeout() }
        if let failure = lock.withLock({ failure }) { throw failure }
        return lock.withLock { count }
    }
}

struct SubmitterTimeout: Error {}
