import FlowlineProtocol
import FlowlineTestSupport
import Foundation
import Testing

/// SPEC §12's roles against a real daemon: a token file of `admin`, `client` and queue-scoped `worker` tokens,
/// -32007 for a call outside the role with nothing changed by it, and the file's refusals at start.
@Suite(.timeLimit(.minutes(2)))
struct RolesTests {
    private func code(_ message: JSON) -> Int64? { message["error"]?["code"]?.int64Value }

    static let tokenFile = """
        # operators
        admin a-token

        client c-token
        worker w-token etl,io
        worker any-worker-token
        bare-token
        """

    private func daemon() throws -> (Fixture, TemporaryDirectory) {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/tokens"
        try Self.tokenFile.write(toFile: path, atomically: true, encoding: .utf8)
        return (try Fixture(arguments: ["--token-file", path]), directory)
    }

    private func session(
        _ f: Fixture,
        _ token: String,
        role: String = "client",
        queues: String? = nil
    ) throws
        -> (LineClient, JSON)
    {
        let c = try f.client()
        let queuesField = queues.map { #","queues":\#($0),"concurrency":1"# } ?? ""
        let answer = try c.call(
            "hello",
            #"{"role":"\#(role)","name":"n","token":"\#(token)","protocol":1\#(queuesField)}"#
        )
        return (c, answer)
    }

    @Test func aClientTokenDrivesWorkflowsButNeverWorks() throws {
        let (f, _) = try daemon()
        let (client, hello) = try session(f, "c-token")
        #expect(hello["result"] != nil)
        let id = try client.submit(#"{"name":"n","tasks":[{"id":"a","handler":"h","queue":"etl"}]}"#)
        #expect(try client.result("workflow.list")["workflows"]?.arrayValue?.count == 1)
        #expect(try client.result("workers.list")["workers"] != nil)
        let refused = try client.call("task.complete", #"{"lease":"1","result":null}"#)
        #expect(code(refused) == -32007, "\(refused)")
        #expect(refused["error"]?["data"]?["method"] == .string("task.complete"))
        #expect(refused["error"]?["data"]?["role"] == .string("client"))
        #expect(code(try client.call("worker.quiet")) == -32007)
        let (_, asWorker) = try session(f, "c-token", role: "worker", queues: #"["etl"]"#)
        #expect(code(asWorker) == -32007, "a client token may not say hello as a worker: \(asWorker)")
        #expect(try client.result("workflow.get", #"{"workflow_id":"\#(id)"}"#)["state"] == .string("running"))
    }

    @Test func aWorkerTokenServesOnlyItsQueuesAndReadsNoWorkflow() throws {
        let (f, _) = try daemon()
        let (admin, _) = try session(f, "a-token")
        let id = try admin.submit(#"{"name":"n","tasks":[{"id":"a","handler":"h","queue":"etl"}]}"#)
        let (_, outside) = try session(f, "w-token", role: "worker", queues: #"["etl","other"]"#)
        #expect(code(outside) == -32007, "\(outside)")
        let (_, omitted) = try session(f, "w-token", role: "worker")
        #expect(code(omitted) == -32007, "no queues means default, which the token does not list: \(omitted)")
        let (worker, hello) = try session(f, "w-token", role: "worker", queues: #"["etl"]"#)
        #expect(hello["result"] != nil, "\(hello)")
        #expect(code(try worker.call("workflow.get", #"{"workflow_id":"\#(id)"}"#)) == -32007)
        #expect(code(try worker.call("workflow.list")) == -32007)
        #expect(code(try worker.call("workflow.cancel", #"{"workflow_id":"\#(id)"}"#)) == -32007)
        #expect(code(try worker.call("workers.list")) == -32007)
        #expect(try worker.result("stats")["workflows"] != nil)
        #expect(try worker.result("future.resolve", #"{"key":"k","result":1}"#)["matched"] == .int(0))
        // The refused cancel changed nothing: the task runs and completes.
        let task = try worker.nextTask()
        #expect(task["workflow_id"] == .string(id))
        #expect(try worker.complete(task)["result"] != nil)
        #expect(try admin.wait(id)["state"] == .string("completed"))
    }

    @Test func adminAndBareTokensMayDoEverything() throws {
        let (f, _) = try daemon()
        for token in ["a-token", "bare-token"] {
            let (_, hello) = try session(f, token, role: "worker", queues: #"["anything"]"#)
            #expect(hello["result"] != nil, "\(token): \(hello)")
            let (client, _) = try session(f, token)
            #expect(try client.result("workflow.list")["workflows"] != nil)
            #expect(code(try client.call("task.complete", #"{"lease":"999","result":null}"#)) == -32003)
        }
        let (_, anyQueue) = try session(f, "any-worker-token", role: "worker", queues: #"["x","y"]"#)
        #expect(anyQueue["result"] != nil, "a worker token without a list serves any queue")
    }

    @Test(arguments: [
        ("boss t1", "unknown role 'boss'"),
        ("client t1 etl", "only a worker token takes a list of queues"),
        ("worker t1 etl,,io", "empty queue name"),
        ("worker t1 etl io", "expected TOKEN or ROLE TOKEN"),
        ("t1\nclient t1", "a token given twice"),
        ("# only a comment\n\n", "empty"),
    ])
    func aBadTokenFileIsRefusedAtStartWithoutShowingATokenItDoesNotNeedTo(contents: String, message: String) throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/tokens"
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        let binary = try #require(DaemonProcess.binary())
        let run = try ToolProcess.runProgram(
            binary,
            ["--listen", "127.0.0.1:0", "--data", directory.path + "/data", "--token-file", path],
            timeout: 5
        )
        #expect(run.status != 0 && run.status != SIGKILL, "\(run)")
        #expect(!run.stdout.contains("listening"), "\(run)")
        #expect(run.stderr.contains(message), "\(run)")
        #expect(!run.stderr.contains("t1"), "a token is never printed: \(run)")
    }
}
