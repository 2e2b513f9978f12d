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
}
