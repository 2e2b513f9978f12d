import FlowlineProtocol
import FlowlineTestSupport
import Foundation
import Testing

/// A journal that cannot grow: writes are refused with -32005, nothing refused is kept, reads go on, and the
/// daemon carries on once there is room again.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct DiskFullTests {
    /// With a checkpoint due at every turn, a checkpoint that does not fit is left for later while the turn's
    /// events still commit, so the same guarantees hold.
    @Test(arguments: [10_000, 1])
    func aFullMapRefusesWritesKeepsReadsAndRecoversWithRoom(checkpointEvents: Int) throws {
        let room = ["--map-size", "262144", "--max-map-size", "524288", "--checkpoint-events", "\(checkpointEvents)"]
        let f = try Fixture(sync: "full", arguments: room)
        let client = try f.client()
        let blob = String(repeating: "x", count: 20_000)
        var acknowledged: [String] = []
        var refused: [String] = []
        for i in 0..<200 where refused.isEmpty {
            let response = try client.call(
                "workflow.submit",
                #"{"name":"big","id":"big-\#(i)","input":{"blob":"\#(blob)"},"tasks":[{"id":"a","handler":"h"}]}"#
            )
            if response["result"] != nil {
                acknowledged.append("big-\(i)")
            } else {
                #expect(response["error"]?["code"] == .int(-32005), "\(response)")
                refused.append("big-\(i)")
            }
        }
        #expect(!acknowledged.isEmpty && refused.count == 1, "the map should fill within 200 submits")
        // Reads still work, and what was refused is not there.
        #expect(
            try client.result("workflow.get", #"{"workflow_id":"\#(acknowledged.last!)"}"#)["state"]
                == .string("running")
        )
        #expect(try client.call("workflow.get", #"{"workflow_id":"\#(refused[0])"}"#)["error"]?["code"] == .int(-32002))
        #expect(try client.result("stats")["workflows"]?["running"] == .int(Int64(acknowledged.count)))
        // Still full: another write is refused too, and the connection stays usable.
        let again = try client.call(
            "workflow.submit",
            #"{"name":"big","id":"again","input":{"blob":"\#(blob)"},"tasks":[{"id":"a","handler":"h"}]}"#
        )
        #expect(again["error"]?["code"] == .int(-32005))
        // Room returns (a larger limit): everything acknowledged is there, nothing refused is, and writes work.
        f.daemon.crash()
        f.daemon = try DaemonProcess(
            data: f.directory.path + "/data",
            sync: "full",
            extraArguments: ["--max-map-size", "67108864"]
        )
        let after = try f.client()
        let list = try after.result("workflow.list", #"{"limit":1000}"#)["workflows"]?.arrayValue ?? []
        #expect(Set(list.compactMap { $0["workflow_id"]?.stringValue }) == Set(acknowledged))
        #expect(try after.submit(#"{"name":"small","id":"small","tasks":[{"id":"a","handler":"h"}]}"#) == "small")
        let worker = try f.worker()
        try worker.complete(try worker.nextTask())
    }

    /// A real full disk (a small tmpfs; needs root), with a worker connected and `--sync none` (a writable map):
    /// reads keep answering, writes get -32005 and change nothing, a refused write does not rebuild the state
    /// again, and writes resume as soon as space is freed.
    @Test func aFullDiskKeepsReadsAnsweringAndWritesResumeOnceSpaceIsFreed() throws {
        guard getuid() == 0 else {
            print("skipped aFullDiskKeepsReadsAnsweringAndWritesResumeOnceSpaceIsFreed: mounting a tmpfs needs root")
            return
        }
        let tmpfs = try TmpfsMount()
        defer { tmpfs.unmount() }
        let mount = tmpfs.path
        let data = mount + "/data"
        var daemon = try DaemonProcess(data: data, sync: "none")
        defer { daemon.stop() }
        let client = try LineClient(port: daemon.port)
        let other = try LineClient(port: daemon.port)
        let worker = try LineClient.worker(port: daemon.port, name: "w", queues: ["default"], concurrency: 1)
        #expect(
            try client.submit(#"{"name":"two","id":"two","tasks":[{"id":"a","handler":"h"},{"id":"b","handler":"h"}]}"#)
                == "two"
        )
        let leased = try worker.nextTask()
        // Fill the disk.
        let filled = try ToolProcess.runProgram("/bin/dd", ["if=/dev/zero", "of=\(mount)/filler", "bs=1M"])
        #expect(filled.stderr.contains("No space left"), "\(filled)")
        let blob = String(repeating: "x", count: 200_000)
        func big(_ id: String) -> String {
            // On a queue of their own, so that the worker sees only workflow "two".
            #"{"name":"big","id":"\#(id)","input":{"blob":"\#(blob)"},"tasks":[{"id":"a","handler":"h","queue":"bulk"}]}"#
        }
        var acknowledged: [String] = []
        var refused: String?
        for i in 0..<400 where refused == nil {
            // A read right behind each write, most likely in the same loop turn: when that turn's commit fails,
            // the read is still answered, from what the journal holds.
            let submit = client.send("workflow.submit", big("big-\(i)"))
            let stats = client.send("stats")
            let response = try client.response(to: submit)
            let counted = try client.response(to: stats)
            let taken = response["result"] != nil
            let running = Int64(acknowledged.count + (taken ? 2 : 1))
            #expect(counted["result"]?["workflows"]?["running"] == .int(running), "\(counted)")
            if taken {
                acknowledged.append("big-\(i)")
            } else {
                #expect(response["error"]?["code"] == .int(-32005), "\(response)")
                refused = "big-\(i)"
            }
        }
        let refusedID = try #require(refused, "the disk should fill within 400 submits")
        // While full: reads answer, every time, beside a client whose writes are refused.
        for attempt in 0..<5 {
            #expect(try other.call("workflow.submit", big("again-\(attempt)"))["error"]?["code"] == .int(-32005))
            #expect(try client.result("workflow.get", #"{"workflow_id":"two"}"#)["state"] == .string("running"))
            #expect(try client.result("stats")["workflows"]?["running"] == .int(Int64(acknowledged.count + 1)))
            let list = try client.result("workflow.list", #"{"limit":1000}"#)["workflows"]?.arrayValue ?? []
            #expect(list.count == acknowledged.count + 1)
            let history = try client.result("workflow.history", #"{"workflow_id":"two"}"#)["events"]?.arrayValue
            #expect((history?.count ?? 0) >= 2)
            #expect(
                try client.call("workflow.get", #"{"workflow_id":"\#(refusedID)"}"#)["error"]?["code"] == .int(-32002)
            )
        }
        // One rebuild, for the commit that found the disk full; the refused writes since cost none.
        let failures = daemon.stderr.components(separatedBy: "journal commit failed").count - 1
        #expect(failures == 1, "\(daemon.stderr.suffix(3000))")
        // Space freed: the next write is taken at once, big as it is. The rebuild gave the worker's lease back
        // (as a restart does), so its completion is stale and it is given the task again.
        try FileManager.default.removeItem(atPath: mount + "/filler")
        #expect(try other.submit(big("after")) == "after")
        #expect(try worker.complete(leased)["error"]?["code"] == .int(-32003))
        for _ in 0..<2 {
            let task = try worker.nextTask()
            let done = try worker.complete(task)
            #expect(done["result"] != nil, "\(task) \(done)")
        }
        let waited = try client.wait("two")
        #expect(waited["state"] == .string("completed"), "\(waited) \(daemon.stderr.suffix(2000))")
        // Across a restart: everything acknowledged is there, nothing refused is.
        #expect(daemon.stop() == 0)
        daemon = try DaemonProcess(data: data, sync: "none")
        let after = try LineClient(port: daemon.port)
        let list = try after.result("workflow.list", #"{"limit":1000}"#)["workflows"]?.arrayValue ?? []
        let ids = Set(list.compactMap { $0["workflow_id"]?.stringValue })
        #expect(ids == Set(acknowledged + ["two", "after"]))
    }
}
