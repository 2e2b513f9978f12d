import Flowline
import FlowlineProtocol
import FlowlineTestSupport
import Foundation
import Testing

@Suite(.timeLimit(.minutes(2)))
struct ClientTests {
    static let diamond = Workflow(name: "test_job", id: "diamond-1", input: ["day": "2026-11-22"]) {
        Step("step1")
        Step("step2").deps("step1")
        Step("step3").deps("step1")
        Step("step4").deps("step2", "step3")
    }

    @Test func roundTripsWithoutWorkers() async throws {
        let f = try DaemonFixture()
        let client = try await f.client()
        defer { client.close() }
        let submitted = try await client.submit(Self.diamond)
        #expect(submitted.workflowID == "diamond-1" && submitted.created)
        #expect(try await client.submit(Self.diamond.document).created == false)

        let record = try await client.get("diamond-1")
        #expect(record.state == "running" && record.name == "test_job" && record.input == ["day": "2026-11-22"])
        #expect(record.tasks.map(\.id) == ["step1", "step2", "step3", "step4"])
        #expect(record.task("step4")?.deps == ["step2", "step3"])
        #expect(record.task("step1")?.state == "ready" && record.task("step2")?.state == "blocked")
        #expect(Timestamp.parse(record.createdAt) != nil && record.finishedAt == nil)

        let waited = try await client.wait("diamond-1", timeout: .milliseconds(50))
        #expect(waited.state == "running")

        _ = try await client.submit(Workflow(name: "other") { Step("only") })
        let page = try await client.list(limit: 1)
        #expect(page.workflows.count == 1 && page.workflows[0].name == "other" && page.next != nil)
        let rest = try await client.list(after: page.next)
        #expect(rest.workflows.map(\.workflowID) == ["diamond-1"] && rest.next == nil)
        #expect(try await client.list(name: "test_job").workflows.count == 1)

        let cancelled = try await client.cancel("diamond-1", reason: "test")
        #expect(cancelled.state == "cancelled" && cancelled.tasks.allSatisfy { $0.state == "cancelled" })
        #expect(try await client.wait("diamond-1").state == "cancelled")
        #expect(try await client.list(state: "cancelled").workflows.map(\.workflowID) == ["diamond-1"])

        let history = try await client.history("diamond-1")
        #expect(history.first?.type == "workflow_submitted" && history.last?.type == "workflow_cancelled")
        #expect(history.last?.fields["reason"] == "test")
        #expect(history.map(\.seq) == history.map(\.seq).sorted())

        #expect(try await client.workers().isEmpty)
        let stats = try await client.stats()
        #expect(stats["workflows"]?["cancelled"] == 1)
        #expect(try await client.call("workflow.get", ["workflow_id": "diamond-1"])["state"] == "cancelled")
    }

    @Test func errorsAreTyped() async throws {
        let f = try DaemonFixture()
        let client = try await f.client()
        defer { client.close() }
        await #expect(throws: FlowlineError.rpc(.notFound, message: "Not found: no workflow 'nope'", data: nil)) {
            try await client.get("nope")
        }
        let bad = Workflow(name: "bad") {
            Step("a")
            Step("b").deps("missing")
        }
        do {
            _ = try await client.submit(bad)
            Issue.record("an invalid document was accepted")
        } catch {
            #expect(error.rpcCode == .invalidParams)
            #expect(error.path == "tasks[1].deps[0]")
        }
        await #expect(throws: FlowlineError.self) { try await client.call("no.such.method", [:]) }
        do {
            _ = try await client.call("no.such.method", [:])
        } catch {
            #expect(error.rpcCode == .methodNotFound)
        }
    }

    @Test func refusedConnectionIsAConnectionError() async throws {
        let port = try DaemonProcess.freePort()
        do {
            _ = try await Client(port: port)
            Issue.record("connected to a closed port")
        } catch {
            guard case .connection = error else { throw error }
        }
    }

    @Test func tokenIsPresentedInHello() async throws {
        let directory = try TemporaryDirectory("flowline-token")
        let tokenFile = directory.path + "/token"
        try "s3cret\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let f = try DaemonFixture(arguments: ["--token-file", tokenFile])
        do {
            _ = try await Client(port: f.port, token: "wrong")
            Issue.record("a wrong token was accepted")
        } catch {
            #expect(error.rpcCode == .unauthorized)
        }
        let client = try await Client(port: f.port, token: "s3cret")
        defer { client.close() }
        #expect(try await client.workers().isEmpty)
    }

    @Test func callsAfterCloseFail() async throws {
        let f = try DaemonFixture()
        let client = try await f.client()
        client.close()
        await #expect(throws: FlowlineError.self) { try await client.stats() }
    }
}
