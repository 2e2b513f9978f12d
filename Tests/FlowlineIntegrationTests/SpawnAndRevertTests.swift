import FlowlineProtocol
import FlowlineTestSupport
import Foundation
import Testing

@Suite(.timeLimit(.minutes(2)))
struct SpawnAndRevertTests {
    static let prices: [String: [Double]] = ["AAPL": [1, 2, 3, 4], "GOOG": [10, 10, 10, 12], "MSFT": [5, 7, 9, 11]]

    static func stddev(_ xs: [Double]) -> Double {
        let mean = xs.reduce(0, +) / Double(xs.count)
        return (xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(xs.count)).squareRoot()
    }

    /// The Flink Tasks seed's stock example: in parallel load three series and take each one's standard
    /// deviation, then their average, returned as the spawning task's result.
    @Test(arguments: [false, true])
    func flinkStocksRunsAsSpawnedTasks(restart: Bool) throws {
        let f = try Fixture(sync: "full")
        var worker = try f.worker(concurrency: 8)
        _ = try f.client().submit(
            #"{"name":"stocks","id":"stocks","tasks":[{"id":"analyse","handler":"analyse"},{"id":"report","handler":"report","deps":["analyse"]}]}"#
        )
        let root = try worker.nextTask()
        let loads = Self.prices.keys.sorted().map { s in
            #"{"id":"load-\#(s)","handler":"load","input":{"symbol":"\#(s)"}}"#
        }
        let stds = Self.prices.keys.sorted().map { s in #"{"id":"std-\#(s)","handler":"std","deps":["load-\#(s)"]}"# }
        let avgDeps = Self.prices.keys.sorted().map { #""std-\#($0)""# }.joined(separator: ",")
        let spawned = try worker.call(
            "task.spawn",
            #"{"lease":"\#(root["lease"]!.stringValue!)","output":"average","tasks":[\#((loads + stds).joined(separator: ",")),{"id":"average","handler":"avg","deps":[\#(avgDeps)]}]}"#
        )
        #expect(spawned["result"] != nil, "\(spawned)")
        var steps = 0
        while true {
            if restart && steps == 3 {
                try f.crashAndRestart(sync: "full")
                worker = try f.worker(concurrency: 8)
            }
            let task = try worker.nextTask()
            steps += 1
            let id = task["task_id"]!.stringValue!
            switch task["handler"]!.stringValue! {
            case "load":
                let series = Self.prices[task["input"]!["symbol"]!.stringValue!]!
                try worker.complete(task, result: "[\(series.map { "\($0)" }.joined(separator: ","))]")
            case "std":
                let dep = task["deps"]!.objectValue!.values.first!.arrayValue!.compactMap(\.doubleValue)
                try worker.complete(task, result: "\(Self.stddev(dep))")
            case "avg":
                #expect(id == "analyse/average")
                let values = task["deps"]!.objectValue!.values.compactMap(\.doubleValue)
                #expect(values.count == 3)
                try worker.complete(task, result: "\(values.reduce(0, +) / Double(values.count))")
            case "report":
                let average = task["deps"]?["analyse"]?.doubleValue ?? -1
                let expected = Self.prices.values.map(Self.stddev).reduce(0, +) / 3
                #expect(abs(average - expected) < 1e-9)
                try worker.complete(task, result: "\(average)")
            default: Issue.record("unexpected \(id)")
            }
            if task["handler"] == .string("report") { break }
        }
        let record = try f.client().wait("stocks")
        #expect(record["state"] == .string("completed"))
        #expect(record.task("analyse")?["state"] == .string("completed"))
        #expect(record.task("analyse/std-AAPL")?["deps"]?[0] == .string("analyse/load-AAPL"))
        #expect(record["result"]?.objectValue?.keys.sorted() == ["report"])
        let ids = record["tasks"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
        #expect(ids.first == "analyse" && ids.count == 9)
    }

    @Test func spawnInsideSpawnAndBadSpawnsAreRefused() throws {
        let f = try Fixture()
        let worker = try f.worker(concurrency: 4)
        _ = try f.client().submit(#"{"name":"nest","id":"nest","tasks":[{"id":"outer","handler":"outer"}]}"#)
        let outer = try worker.nextTask()
        let lease = outer["lease"]!.stringValue!
        let noOutput = try worker.call(
            "task.spawn",
            #"{"lease":"\#(lease)","output":"zz","tasks":[{"id":"a","handler":"h"}]}"#
        )
        #expect(noOutput["error"]?["data"]?["path"] == .string("output"))
        let badDep = try worker.call(
            "task.spawn",
            #"{"lease":"\#(lease)","output":"a","tasks":[{"id":"a","handler":"h","deps":["ghost"]}]}"#
        )
        #expect(badDep["error"]?["data"]?["path"] == .string("tasks[0].deps[0]"))
        _ = try worker.result(
            "task.spawn",
            #"{"lease":"\#(lease)","output":"inner","tasks":[{"id":"inner","handler":"inner"}]}"#
        )
        let inner = try worker.nextTask()
        #expect(inner["task_id"] == .string("outer/inner"))
        _ = try worker.result(
            "task.spawn",
            #"{"lease":"\#(inner["lease"]!.stringValue!)","output":"leaf","tasks":[{"id":"leaf","handler":"leaf"}]}"#
        )
        let leaf = try worker.nextTask()
        #expect(leaf["task_id"] == .string("outer/inner/leaf"))
        try worker.complete(leaf, result: #""deep""#)
        let record = try f.client().wait("nest")
        #expect(record["state"] == .string("completed"))
        #expect(record["result"]?["outer"] == .string("deep"))
    }

    /// The job-runner seed: create an instance, then a volume, then attach them; attaching fails for good, so
    /// the volume's revert and then the instance's revert run, in that order.
    @Test(arguments: [false, true])
    func aFailedAttachRevertsTheVolumeThenTheInstance(restart: Bool) throws {
        let f = try Fixture(sync: "full")
        var worker = try f.worker()
        _ = try f.client().submit(
            #"""
            {"name":"provision","id":"ec2","tasks":[
             {"id":"instance","handler":"create_instance","revert":"delete_instance"},
             {"id":"volume","handler":"create_volume","revert":"delete_volume","deps":["instance"],
              "retry":{"max_attempts":2,"backoff_s":0.01}},
             {"id":"attach","handler":"attach","deps":["volume"],"retry":{"max_attempts":2,"backoff_s":0.01}}]}
            """#
        )
        try worker.complete(try worker.nextTask(), result: #"{"instance_id":"i-1"}"#)
        try worker.fail(try worker.nextTask())  // The volume's first attempt fails; its retry succeeds.
        try worker.complete(try worker.nextTask(), result: #"{"volume_id":"vol-9"}"#)
        for _ in 0..<2 { try worker.fail(try worker.nextTask(), type: "attach_error") }
        let first = try worker.nextTask()
        #expect(first["revert"] == .bool(true))
        #expect(first["handler"] == .string("delete_volume"))
        #expect(first["result"]?["volume_id"] == .string("vol-9"))
        #expect(try f.client().result("workflow.get", #"{"workflow_id":"ec2"}"#)["state"] == .string("reverting"))
        if restart {
            try f.crashAndRestart(sync: "full")
            worker = try f.worker()
            let again = try worker.nextTask()
            #expect(again["handler"] == .string("delete_volume"), "the revert in progress runs again after a restart")
            try worker.complete(again)
        } else {
            try worker.complete(first)
        }
        let second = try worker.nextTask()
        #expect(second["handler"] == .string("delete_instance"))
        #expect(second["result"]?["instance_id"] == .string("i-1"))
        try worker.complete(second)
        let record = try f.client().wait("ec2")
        #expect(record["state"] == .string("failed"))
        #expect(record["reverted"] == .bool(true))
        #expect(record["revert_failures"] == .array([]))
        #expect(record.task("volume")?["state"] == .string("reverted"))
        #expect(record.task("instance")?["state"] == .string("reverted"))
        #expect(record.task("attach")?["state"] == .string("failed"))
        #expect(record.task("attach")?["error"]?["type"] == .string("attach_error"))
    }

    @Test func aRevertThatFailsForGoodIsReportedAndTheNextStillRuns() throws {
        let f = try Fixture()
        let worker = try f.worker()
        _ = try f.client().submit(
            #"""
            {"name":"p","id":"rf","tasks":[{"id":"a","handler":"a","revert":"undo_a"},
             {"id":"b","handler":"b","revert":"undo_b","deps":["a"]},{"id":"c","handler":"c","deps":["b"]}]}
            """#
        )
        try worker.complete(try worker.nextTask())
        try worker.complete(try worker.nextTask())
        try worker.fail(try worker.nextTask(), retryable: false)
        try worker.fail(try worker.nextTask(), type: "undo_error")  // undo_b, one attempt only
        let undoA = try worker.nextTask()
        #expect(undoA["handler"] == .string("undo_a"))
        try worker.complete(undoA)
        let record = try f.client().wait("rf")
        #expect(record["state"] == .string("failed"))
        #expect(record["reverted"] == .bool(false))
        #expect(record["revert_failures"] == .array([.string("b")]))
        #expect(record.task("b")?["state"] == .string("revert_failed"))
    }

    @Test(arguments: [(false, false), (true, false), (true, true)])
    func cancelRevertsOnlyWhenAsked(revert: Bool, restart: Bool) throws {
        let f = try Fixture(sync: "full")
        var worker = try f.worker(concurrency: 2)
        _ = try f.client().submit(
            #"""
            {"name":"c","id":"cx","tasks":[{"id":"a","handler":"a","revert":"undo_a"},
             {"id":"b","handler":"b","deps":["a"]},{"id":"w","handler":"w","deps":["a"]}]}
            """#
        )
        try worker.complete(try worker.nextTask())
        let running = [try worker.nextTask(), try worker.nextTask()]
        let waiting = running.first { $0["task_id"] == .string("w") }!
        _ = try worker.result("task.await", #"{"lease":"\#(waiting["lease"]!.stringValue!)","future":{"key":"k-cx"}}"#)
        let record = try f.client().result("workflow.cancel", #"{"workflow_id":"cx","revert":\#(revert)}"#)
        let b = running.first { $0["task_id"] == .string("b") }!
        let cancel = try worker.nextMessage(method: "task.cancel")
        #expect(cancel["params"]?["task_id"] == .string("b"))
        #expect(try worker.complete(b)["error"]?["code"] == .int(-32003))
        #expect(record.task("w")?["state"] == .string("cancelled"))
        if revert {
            #expect(record["state"] == .string("reverting"))
            if restart {
                // The revert sequence in progress carries on after a crash.
                try f.crashAndRestart(sync: "full")
                worker = try f.worker(concurrency: 2)
            }
            let undo = try worker.nextTask()
            #expect(undo["handler"] == .string("undo_a"))
            try worker.complete(undo)
            let done = try f.client().wait("cx")
            #expect(done["state"] == .string("cancelled"))
            #expect(done["reverted"] == .bool(true))
            #expect(done.task("a")?["state"] == .string("reverted"))
        } else {
            #expect(record["state"] == .string("cancelled"))
            #expect(record.task("a")?["state"] == .string("completed"))
            worker.pump(seconds: 0.2)
            #expect(!worker.inbox.contains { $0["method"] == .string("task.run") }, "no revert without revert: true")
        }
        #expect(try f.client().result("future.resolve", #"{"key":"k-cx","result":1}"#)["matched"] == .int(0))
    }
}
