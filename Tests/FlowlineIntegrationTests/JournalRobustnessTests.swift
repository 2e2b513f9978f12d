import FlowlineProtocol
import FlowlineTestSupport
import Foundation
import Testing

/// The daemon comes back on any journal it wrote, refuses one it must not touch, and never dies of a signal on
/// a damaged one (issue #18).
@Suite(.serialized, .timeLimit(.minutes(2)))
struct JournalRobustnessTests {
    private static let blob = String(repeating: "x", count: 20_000)

    private static func submitBig(_ client: LineClient, _ ids: Range<Int>) throws {
        for i in ids {
            let id = try client.submit(
                #"{"name":"big","id":"big-\#(i)","input":{"blob":"\#(blob)"},"tasks":[{"id":"a","handler":"h"}]}"#
            )
            #expect(id == "big-\(i)")
        }
    }

    /// A journal that grew past `--map-size` at run time restarts with the same flags, after SIGKILL (its index
    /// entries deferred, so the opening write has work to do) and after SIGTERM, with everything it acknowledged.
    @Test(arguments: ["none", "full"])
    func aJournalThatOutgrewItsMapRestartsWithTheSameFlags(sync: String) throws {
        let flags = ["--map-size", "1048576"]
        let f = try Fixture(sync: sync, arguments: flags)
        try Self.submitBig(try f.client(), 0..<100)
        let bytes = try f.client().result("stats")["journal"]?["bytes"]?.int64Value ?? 0
        #expect(bytes > 1 << 20, "the journal should have outgrown the 1 MiB map: \(bytes) bytes")
        try f.crashAndRestart(sync: sync, arguments: flags)
        #expect(try f.client().result("stats")["workflows"]?["running"] == .int(100), "\(f.daemon.stderr)")
        try Self.submitBig(try f.client(), 100..<150)
        #expect(f.daemon.stop() == 0)
        f.daemon = try DaemonProcess(data: f.directory.path + "/data", sync: sync, extraArguments: flags)
        let client = try f.client()
        #expect(try client.result("stats")["workflows"]?["running"] == .int(150))
        let worker = try f.worker()
        try worker.complete(try worker.nextTask())
    }

    /// SPEC §7: a second daemon on a data directory in use exits at once, naming the holder's pid; the first goes
    /// on undisturbed, the admin tool still reads the journal, and the lock dies with its holder.
    @Test func aSecondDaemonOnTheSameDataExitsNamingTheHolder() throws {
        let f = try Fixture()
        let data = f.directory.path + "/data"
        let binary = try #require(DaemonProcess.binary())
        let started = Date()
        let second = try ToolProcess.runProgram(
            binary,
            ["--listen", "127.0.0.1:0", "--data", data, "--sync", "none"],
            timeout: 5
        )
        #expect(Date().timeIntervalSince(started) < 3, "the second daemon should exit at once")
        #expect(second.status != 0 && second.status != 9, "\(second)")
        #expect(second.stderr.contains("pid \(f.daemon.pid)"), "\(second)")
        #expect(second.stdout.isEmpty, "\(second)")
        // The first still writes: a workflow completes with its whole history.
        let client = try f.client()
        let worker = try f.worker()
        #expect(try client.submit(#"{"name":"w","id":"w1","tasks":[{"id":"a","handler":"h"}]}"#) == "w1")
        #expect(try worker.complete(try worker.nextTask())["result"] != nil)
        #expect(try client.wait("w1")["state"] == .string("completed"))
        let events = try client.result("workflow.history", #"{"workflow_id":"w1"}"#)["events"]?.arrayValue ?? []
        #expect(events.count >= 4, "\(events)")
        // Reading is allowed beside the writer.
        let inspect = try ToolProcess.run(["inspect", "--data", data])
        #expect(inspect.status == 0, "\(inspect)")
        let replay = try ToolProcess.run(["replay", "--data", data])
        #expect(replay.status == 0, "\(replay)")
        // The OS drops the lock of a killed holder.
        try f.crashAndRestart()
        #expect(try f.client().result("workflow.get", #"{"workflow_id":"w1"}"#)["state"] == .string("completed"))
    }

    enum Cut: String, CaseIterable, CustomTestStringConvertible {
        /// Half the file gone.
        case half
        /// The last page cut short by a few bytes.
        case lastPage
        var testDescription: String { rawValue }
    }

    /// A `data.mdb` shorter than its meta page says is refused with a message and exit code 3 by the daemon (with
    /// a writable map or without), and with a message by `flowline inspect` and `replay`: never a signal.
    @Test(arguments: Cut.allCases)
    func aTruncatedJournalIsRefusedNotASignal(cut: Cut) throws {
        let f = try Fixture(sync: "full")
        try Self.submitBig(try f.client(), 0..<20)
        #expect(f.daemon.stop() == 0)
        let data = f.directory.path + "/data"
        let file = data + "/data.mdb"
        let size = try #require(try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int)
        #expect(size > 64 << 10)
        let handle = try #require(FileHandle(forWritingAtPath: file))
        try handle.truncate(atOffset: UInt64(cut == .half ? size / 2 : size - 100))
        try handle.close()
        let binary = try #require(DaemonProcess.binary())
        for sync in ["full", "none"] {
            let run = try ToolProcess.runProgram(
                binary,
                ["--listen", "127.0.0.1:0", "--data", data, "--sync", sync],
                timeout: 10
            )
            #expect(run.status == 3, "--sync \(sync): \(run)")
            #expect(run.stderr.contains("truncated"), "--sync \(sync): \(run)")
        }
        for command in ["inspect", "replay"] {
            let run = try ToolProcess.run([command, "--data", data])
            #expect(run.status == 2, "\(command): \(run)")
            #expect(run.stderr.contains("truncated"), "\(command): \(run)")
        }
        // Refusing changed nothing: the file is as it was cut.
        let after = try #require(try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int)
        #expect(after == (cut == .half ? size / 2 : size - 100))
    }
}
