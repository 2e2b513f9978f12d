import Flowline
import Foundation
import Synchronization
import Testing

/// SPEC §8 in the Swift client: a `Worker` sends its registered handlers in `hello`, so two workers of different
/// handlers on one queue each get only their own tasks, and none fails `unknown_handler`.
@Suite(.timeLimit(.minutes(2)))
struct RoutingTests {
    @Test func twoWorkersOfDifferentHandlersOnOneQueueEachGetTheirOwnTasks() async throws {
        let f = try DaemonFixture()
        let extract = Worker(port: f.port, name: "extractor", concurrency: 2)
        let load = Worker(port: f.port, name: "loader", concurrency: 2)
        let seen = Mutex<[String: [String]]>([:])
        extract.register("extract") { task in
            seen.withLock { $0["extractor", default: []].append(task.handler) }
            return .result(1)
        }
        load.register("load") { task in
            seen.withLock { $0["loader", default: []].append(task.handler) }
            return .result(2)
        }
        let client = try await f.client()
        defer { client.close() }
        var tasks: [String] = []
        for i in 0..<6 {
            tasks.append(#"{"id":"e\#(i)","handler":"extract"}"#)
            tasks.append(#"{"id":"l\#(i)","handler":"load"}"#)
        }
        let document = try JSON(
            parsing: #"{"name":"routed","id":"routed-1","tasks":[\#(tasks.joined(separator: ","))]}"#
        )
        let record = try await running(extract) {
            try await running(load) {
                _ = try await client.submit(document)
                return try await client.wait("routed-1", timeout: .seconds(30))
            }
        }
        #expect(record.state == "completed", "\(record)")
        let byWorker = seen.withLock { $0 }
        #expect(byWorker["extractor"] == Array(repeating: "extract", count: 6), "\(byWorker)")
        #expect(byWorker["loader"] == Array(repeating: "load", count: 6), "\(byWorker)")
        for i in 0..<6 {
            #expect(record.task("e\(i)")?.worker == "extractor")
            #expect(record.task("l\(i)")?.worker == "loader")
        }
    }
}
