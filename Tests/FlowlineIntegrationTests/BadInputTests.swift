import FlowlineProtocol
import FlowlineTestSupport
import Foundation
import Testing

@Suite(.timeLimit(.minutes(2)))
struct BadInputTests {
    static let validation: [(String, String)] = [
        (#"{"name":"v","tasks":[{"id":"a","handler":"h"},{"id":"a","handler":"h"}]}"#, "tasks[1].id"),
        (#"{"name":"v","tasks":[{"id":"a","handler":"h","deps":["nope"]}]}"#, "tasks[0].deps[0]"),
        (
            #"{"name":"v","tasks":[{"id":"a","handler":"h","deps":["b"]},{"id":"b","handler":"h","deps":["a"]}]}"#,
            "tasks[0].deps"
        ),
        (#"{"name":"v","tasks":[{"id":"a","handler":"h","deps":["a"]}]}"#, "tasks[0].deps"),
        (#"{"name":"v","tasks":[{"id":"a","handler":""}]}"#, "tasks[0].handler"),
        (#"{"name":"v","tasks":[{"id":"a","handler":"h","timeout_s":"soon"}]}"#, "tasks[0].timeout_s"),
        (#"{"name":"v","tasks":[{"id":"a","handler":"h","deps":[3]}]}"#, "tasks[0].deps[0]"),
        (#"{"name":"v","tasks":[]}"#, "tasks"),
        (#"{"name":"v"}"#, "tasks"),
        (#"{"tasks":[{"id":"a","handler":"h"}]}"#, "name"),
        (#"{"name":"v","tasks":[{"id":"a/b","handler":"h"}]}"#, "tasks[0].id"),
        (#"{"name":"v","tasks":[{"id":"a","handler":"h","retry":{"max_attempts":0}}]}"#, "tasks[0].retry.max_attempts"),
    ]

    @Test("each validation error answers -32602 with the path of the bad field", arguments: validation)
    func validationErrorsNameThePath(document: String, path: String) throws {
        let f = try Fixture()
        let client = try f.client()
        let response = try client.call("workflow.submit", document)
        #expect(response["error"]?["code"] == .int(-32602))
        #expect(response["error"]?["data"]?["path"] == .string(path))
        #expect(try client.result("workflow.list")["workflows"]?.arrayValue?.isEmpty == true, "nothing was created")
    }

    @Test func everyErrorRowOfTheSpecKeepsTheConnectionOpen() throws {
        let f = try Fixture(arguments: ["--max-line-bytes", "4096"])
        let client = try f.client()
        client.sendRaw(Array("this is not json\n".utf8))
        let parse = try client.nextMessage()
        #expect(parse["error"]?["code"] == .int(-32700))
        #expect(parse["id"] == .null)
        client.sendRaw(Array(#"{"jsonrpc":"2.0","id":5,"method":7}"#.utf8) + [10])
        #expect(try client.response(to: 5)["error"]?["code"] == .int(-32600))
        client.sendRaw(Array("[1,2]\n".utf8))
        #expect(try client.nextMessage()["error"]?["code"] == .int(-32600))
        #expect(try client.call("no.such.method")["error"]?["code"] == .int(-32601))
        #expect(
            try client.call("workflow.get", #"{"workflow_id":17}"#)["error"]?["data"]?["path"] == .string("workflow_id")
        )
        #expect(try client.call("workflow.get", #"{"workflow_id":"missing"}"#)["error"]?["code"] == .int(-32002))
        #expect(try client.call("task.complete", #"{"lease":"L999","result":1}"#)["error"]?["code"] == .int(-32003))
        #expect(try client.call("task.complete", #"{"lease":"garbage"}"#)["error"]?["code"] == .int(-32003))
        client.sendRaw(Array(repeating: UInt8(ascii: "x"), count: 100_000) + [10])
        let tooLong = try client.nextMessage()
        #expect(tooLong["error"]?["code"] == .int(-32004))
        client.sendRaw([0xC3, 0x28, 10])
        #expect(try client.nextMessage()["error"]?["code"] == .int(-32700))
        #expect(try client.result("stats")["uptime_s"] != nil, "the connection still serves")
        #expect(!client.isClosed)
    }

    @Test func aBadPeerDoesNotDisturbOthers() throws {
        let f = try Fixture()
        let good = try f.client()
        let bad = try f.client()
        bad.sendRaw(Array(String(repeating: "[", count: 10_000).utf8) + [10])
        #expect(try bad.nextMessage()["error"]?["code"] == .int(-32700))
        bad.sendRaw(Array(#"{"jsonrpc":"2.0","id":1,"method":"workflow.submit","params":{"name":"half"#.utf8))
        #expect(try good.result("workflow.list")["workflows"] != nil)
    }

    @Test func aTokenGuardsEveryCallBeforeHello() throws {
        let directory = try TemporaryDirectory()
        let tokenFile = directory.path + "/token"
        try "s3cret\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let f = try Fixture(arguments: ["--token-file", tokenFile])
        let client = try f.client()
        #expect(try client.call("workflow.list")["error"]?["code"] == .int(-32001))
        #expect(
            try client.call("hello", #"{"role":"client","name":"c","token":"wrong","protocol":1}"#)["error"]?["code"]
                == .int(-32001)
        )
        #expect(try client.call("workflow.list")["error"]?["code"] == .int(-32001))
        let hello = try client.result("hello", #"{"role":"client","name":"c","token":"s3cret","protocol":1}"#)
        #expect(hello["server"] == .string("flowline"))
        #expect(hello["protocol"] == .int(1))
        #expect(try client.result("workflow.list")["workflows"] != nil)
    }
}
