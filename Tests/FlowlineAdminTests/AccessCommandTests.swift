import FlowlineProtocol
import FlowlineTestSupport
import Foundation
import Testing

/// The token, paging and reverts through the tool, against a real daemon.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct AccessCommandTests {
    @Test func tokenFileIsPresentedAndAWrongOrMissingOneRefused() throws {
        let secrets = try TemporaryDirectory("flowline-token")
        let token = secrets.path + "/token"
        let wrong = secrets.path + "/wrong"
        try "s3cret\n".write(toFile: token, atomically: true, encoding: .utf8)
        try "guess\n".write(toFile: wrong, atomically: true, encoding: .utf8)
        let fixture = try AdminFixture(arguments: ["--token-file", token])
        let file = try fixture.file("t1.json", #"{"name":"one","id":"t1","tasks":[{"id":"only","handler":"h"}]}"#)

        for refused in [try fixture.tool(["list"]), try fixture.tool(["list", "--token-file", wrong])] {
            #expect(refused.status == 2 && refused.stderr.contains("refused the connection"), "\(refused)")
            #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused)")
        }
        let submit = try fixture.tool(["submit", file, "--token-file", token])
        #expect(submit.status == 0 && submit.stdout == "t1\n", "\(submit)")
        let list = try ToolProcess.run(["--server", fixture.server, "--token-file", token, "list"])
        #expect(list.status == 0 && list.stdout.row("t1")?[2] == "running", "\(list)")
        let verify = try ToolProcess.run(
            ["replay", "--data", fixture.data, "--verify", "--server", fixture.server, "--token-file", token])
        #expect(verify.status == 0 && verify.stdout.contains("live: 1 workflows compared"), "\(verify)")
    }

    @Test func listPagesWithAfter() throws {
        let fixture = try AdminFixture()
        let client = try fixture.client()
        for id in ["p1", "p2", "p3"] {
            _ = try client.submit(#"{"name":"page","id":"\#(id)","tasks":[{"id":"x","handler":"h","queue":"none"}]}"#)
        }
        let first = try fixture.tool(["list", "--limit", "2"])
        #expect(first.status == 0, "\(first)")
        #expect(
            first.stdout.row("p3") != nil && first.stdout.row("p2") != nil && first.stdout.row("p1") == nil,
            "\(first)"
        )
        let hint = try #require(
            first.stdout.split(separator: "\n").last { $0.hasPrefix("more: flowline list --after ") }
        )
        let cursor = String(hint.dropFirst("more: flowline list --after ".count))
        let second = try fixture.tool(["list", "--limit", "2", "--after", cursor])
        #expect(second.status == 0 && second.stdout.row("p1") != nil, "\(second)")
        #expect(second.stdout.row("p2") == nil && second.stdout.row("p3") == nil, "\(second)")
        #expect(!second.stdout.contains("more:"), "the last page: \(second)")
        let json = try JSONParser.parse(Array(try fixture.tool(["list", "--limit", "2", "--json"]).stdout.utf8))
        #expect(json["next"] == .string(cursor) && json["workflows"]?.arrayValue?.count == 2, "\(json)")
    }

    @Test func cancelWithRevertRunsTheRevertHandler() throws {
        let fixture = try AdminFixture()
        let worker = try fixture.worker(name: "w1")
        _ = try fixture.client().submit(
            #"""
            {"name":"rv","id":"rv","tasks":[{"id":"a","handler":"make","revert":"unmake"},
             {"id":"b","handler":"h","deps":["a"],"queue":"none"}]}
            """#
        )
        try worker.complete(try worker.nextTask(), result: #"{"made":1}"#)

        let cancel = try fixture.tool(["cancel", "rv", "--revert", "--reason", "undo it"])
        #expect(cancel.status == 0 && cancel.stdout.field("State") == "reverting", "\(cancel)")
        let revert = try worker.nextTask()
        #expect(revert["revert"] == .bool(true) && revert["handler"] == .string("unmake"), "\(revert)")
        #expect(revert["task_id"] == .string("a"))
        try worker.complete(revert)
        _ = try fixture.client().wait("rv")

        let status = try fixture.tool(["status", "rv"])
        #expect(status.status == 0 && status.stdout.field("State") == "cancelled (reverted)", "\(status)")
        #expect(status.stdout.row("a")?[1] == "reverted" && status.stdout.row("b")?[1] == "cancelled", "\(status)")
        let json = try JSONParser.parse(Array(try fixture.tool(["status", "rv", "--json"]).stdout.utf8))
        #expect(json["reverted"] == .bool(true) && json["revert_failures"] == .array([]), "\(json)")
    }
}

/// SPEC §7 through the tool: a document file's inputs and `resolve --result` reach the daemon as written.
@Suite(.timeLimit(.minutes(2)))
struct PayloadCommandTests {
    @Test func submitAndResolveSendPayloadsAsWritten() throws {
        let fixture = try AdminFixture()
        let input = #"{"zz":12345678901234567890,"aa":[1e400,0.3333333333333333333333],"s":"\u00e9"}"#
        let file = try fixture.file(
            "p.json",
            """
            {"name": "p", "id": "p",
             "input": { "zz": 12345678901234567890,
                        "aa": [1e400, 0.3333333333333333333333], "s": "\\u00e9" },
             "tasks": [{"id": "a", "handler": "h", "queue": "none", "input": {"b": 1, "a": 1e400}}]}
            """
        )
        let submit = try fixture.tool(["submit", file])
        #expect(submit.status == 0 && submit.stdout == "p\n", "\(submit)")
        let client = try fixture.client()
        let record = answer(client, "workflow.get", #"{"workflow_id":"p"}"#)
        #expect(record?.contains(#""input":\#(input)"#) == true, "\(record ?? "no answer")")
        _ = try client.submit(#"{"name":"k","id":"k","tasks":[{"id":"a","handler":"h"}]}"#)
        let worker = try LineClient.worker(port: fixture.daemon.port)
        let task = try worker.nextTask()
        _ = try worker.result(
            "task.await",
            #"{"lease":"\#(task["lease"]?.stringValue ?? "")","future":{"key":"key-1"}}"#
        )
        let resolve = try fixture.tool(["resolve", "key-1", "--result", #"{ "z" : 12345678901234567890, "a": 1 }"#])
        #expect(resolve.status == 0, "\(resolve)")
        let done = answer(client, "workflow.wait", #"{"workflow_id":"k","timeout_s":5}"#)
        #expect(done?.contains(#""result":{"a":{"z":12345678901234567890,"a":1}}"#) == true, "\(done ?? "no answer")")
    }

    /// The response line to a request, as received (within 10 s).
    private func answer(_ client: LineClient, _ method: String, _ params: String) -> String? {
        let id = client.send(method, params)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            client.poll()
            let lines = client.received.map { String(decoding: $0, as: UTF8.self) }
            if let line = lines.first(where: { $0.hasPrefix(#"{"jsonrpc":"2.0","id":\#(id),"#) }) { return line }
            client.pump(seconds: 0.01)
        }
        return nil
    }
}
