import FlowlineProtocol
import FlowlineTestSupport
import Foundation
import Testing

/// `flowline rerun ID [--from TASK]`, and `cancel --all` / `rerun --all` with their filters and confirmation.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct RerunCommandTests {
    @Test func rerunOneWorkflowThenCancelAndRerunManyWithAFilter() throws {
        let fixture = try AdminFixture()
        let client = try fixture.client()
        _ = try client.submit(#"{"name":"job","id":"one","tasks":[{"id":"t","handler":"t"}]}"#)
        let cancelOne = try fixture.tool(["cancel", "one"])
        #expect(cancelOne.status == 0, "\(cancelOne)")
        let rerun = try fixture.tool(["rerun", "one", "--json"])
        #expect(rerun.status == 0, "\(rerun)")
        #expect(try JSONParser.parse(Array(rerun.stdout.utf8))["state"] == .string("running"))
        let notEnded = try fixture.tool(["rerun", "one"])
        #expect(notEnded.status == 2 && notEnded.stderr.contains("workflow_id"), "\(notEnded)")

        for id in ["a", "b"] {
            _ = try client.submit(
                #"{"name":"job","id":"\#(id)","metadata":{"team":"etl"},"tasks":[{"id":"t","handler":"t"}]}"#
            )
        }
        let noFilter = try fixture.tool(["cancel", "--all", "--yes"])
        #expect(noFilter.status == 2 && noFilter.stderr.contains("needs a filter"), "\(noFilter)")
        let refused = try fixture.tool(["cancel", "--all", "--metadata", "team=etl"], stdin: "n\n")
        #expect(refused.status == 2 && refused.stderr.contains("[y/N]"), "\(refused)")
        #expect(try client.result("workflow.get", #"{"workflow_id":"a"}"#)["state"] == .string("running"))
        let cancelled = try fixture.tool(["cancel", "--all", "--metadata", "team=etl"], stdin: "y\n")
        #expect(cancelled.status == 0 && cancelled.stdout.contains("cancelled 2 workflows"), "\(cancelled)")
        #expect(try client.result("workflow.get", #"{"workflow_id":"one"}"#)["state"] == .string("running"))
        let rerunAll = try fixture.tool(["rerun", "--all", "--state", "cancelled", "--name", "job", "--yes"])
        #expect(rerunAll.status == 0 && rerunAll.stdout.contains("rerun 2 workflows"), "\(rerunAll)")
        #expect(try client.result("workflow.get", #"{"workflow_id":"b"}"#)["state"] == .string("running"))
    }
}
