import Flowline
import Foundation
import Synchronization
import Testing

// Only `import Flowline`: a handler's author reaches `JSON` and every payload without knowing our other modules.

/// SPEC §7 in the Swift client: a handler reads a payload as the sender wrote it, and what it returns reaches
/// the record unchanged.
@Suite(.timeLimit(.minutes(2)))
struct PayloadExactTests {
    static let input =
        #"{"zz":1,"aa":2,"id":12345678901234567890,"share":0.3333333333333333333333,"low":-9223372036854775809,"#
        + #""huge":1e400,"plain":2.5,"n":[30,1e2,-0.0],"s":"é\n\"x\""}"#

    @Test func jsonParsingKeepsNumbersAndOrderAndWritesThemBack() throws {
        let value = try JSON(parsing: Self.input)
        // -0.0 and 1e2 are kept as their text: a Double would write them as "-0.0"... or "100.0".
        #expect(value.text == Self.input)
        #expect(value["id"]?.int64Value == nil && value["plain"]?.doubleValue == 2.5)
        #expect(value["zz"] == 1 && value["share"]?.doubleValue == 1.0 / 3.0)
        struct Exact: Decodable {
            var id: Decimal
            var share: Decimal
        }
        let exact = try value.decode(as: Exact.self)
        #expect(exact.id.description == "12345678901234567890")
        #expect(exact.share.description == "0.3333333333333333333333")
    }

    @Test func aHandlerReadsTheInputAsSentAndItsResultKeepsIt() async throws {
        let f = try DaemonFixture()
        let worker = Worker(port: f.port, name: "exact")
        let seen = Mutex<[String]>([])
        worker.register("echo") { task in
            struct Order: Decodable { var id: Decimal }
            let order = try task.input(as: Order.self)
            seen.withLock { $0 = [task.input.text, order.id.description] }
            return .result(task.input)
        }
        let client = try await f.client()
        defer { client.close() }
        let document = try JSON(
            parsing: #"{"name":"exact","id":"exact-1","tasks":[{"id":"t","handler":"echo","input":"#
                + Self.input + "}]}"
        )
        let record = try await running(worker) {
            _ = try await client.submit(document)
            return try await client.wait("exact-1", timeout: .seconds(20))
        }
        #expect(record.state == "completed")
        #expect(seen.withLock { $0 } == [Self.input, "12345678901234567890"])
        #expect(record.task("t")?.result?.text == Self.input)
    }
}
