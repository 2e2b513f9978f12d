import FlowlineProtocol
import FlowlineTestSupport
import Foundation
import Testing

/// `--sync full`: a commit's data pages are synced before anything leaves, its meta page before any answer leaves
/// (README "Durability"). Dispatches go first; answers wait for the next commit or the daemon's own sync.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct MetaSyncTests {
    private func chain(_ id: String, _ count: Int) -> String {
        let tasks = (0..<count).map { i in
            #"{"id":"t\#(i)","handler":"step"\#(i == 0 ? "" : #","deps":["t\#(i - 1)"]"#)}"#
        }
        return #"{"name":"chain","id":"\#(id)","tasks":[\#(tasks.joined(separator: ","))]}"#
    }

    private func index(in lines: [[UInt8]], _ matches: (JSON) -> Bool) -> Int? {
        lines.firstIndex { line in (try? JSONParser.parse(line)).map(matches) ?? false }
    }

    /// The completion of a chain's step commits the next step's dispatch with it: the next `task.run` leaves once
    /// the commit returns, and the answer to `task.complete` after it, once the commit is durable, which here no
    /// later commit brings (the worker sends nothing more), so the daemon syncs by itself.
    @Test func theNextStepLeavesBeforeTheAnswerThatWaitsForTheMetaPage() throws {
        let f = try Fixture(sync: "full")
        let client = try f.client()
        _ = try client.submit(chain("c", 3))
        let worker = try f.worker()
        for step in 0..<2 {
            let task = try worker.nextTask()
            #expect(task["task_id"] == .string("t\(step)"))
            let id = worker.send("task.complete", #"{"lease":"\#(task["lease"]!.string!)","result":\#(step)}"#)
            #expect(try worker.response(to: id)["result"] != nil)
            let lines = worker.received
            let answer = index(in: lines) { $0["id"] == .int(id) }
            let next = index(in: lines) { $0["params"]?["task_id"] == .string("t\(step + 1)") }
            #expect(
                next != nil && answer != nil && next! < answer!,
                "next task.run at \(String(describing: next)), answer at \(String(describing: answer))"
            )
        }
        let last = try worker.nextTask()
        try worker.complete(last, result: "2")
        let record = try client.wait("c")
        #expect(record["state"] == .string("completed"))
        #expect(record["result"]?["t2"] == .int(2))
    }

    /// A read reports the state, which may hold a commit whose meta page is not synced yet: it waits like an
    /// answer that reports a change, and every pipelined answer arrives, in order.
    @Test func pipelinedReadsAndWritesAreAllAnswered() throws {
        let f = try Fixture(sync: "full")
        let client = try f.client()
        var ids: [Int64] = []
        for i in 0..<50 {
            ids.append(client.send("workflow.submit", chain("p\(i)", 2)))
            ids.append(client.send("workflow.get", #"{"workflow_id":"p\#(i)"}"#))
        }
        for (n, id) in ids.enumerated() {
            let response = try client.response(to: id)
            if n % 2 == 0 {
                #expect(response["result"]?["created"] == .bool(true))
            } else {
                #expect(response["result"]?["state"] == .string("running"), "\(response)")
            }
        }
        let order = client.received.compactMap { line in (try? JSONParser.parse(line))?["id"]?.int64Value }
        #expect(order == ids)
    }
}
