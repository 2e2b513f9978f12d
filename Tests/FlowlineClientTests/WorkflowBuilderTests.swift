import Flowline
import FlowlineProtocol
import Testing

struct WorkflowBuilderTests {
    private func parse(_ text: String) throws -> JSON { try JSONParser.parse(Array(text.utf8)) }

    @Test func specExampleEncodesToTheSpecDocument() throws {
        let etl = Workflow(name: "etl", id: "etl-2026-11-22", input: ["day": "2026-11-22"], timeout: .seconds(3600)) {
            Step("extract", handler: "extract")
                .queue("default")
                .input(["url": "..."])
                .retry(maxAttempts: 3, backoff: .seconds(1), multiplier: 2, maxBackoff: .seconds(60))
                .timeout(.seconds(300))
                .heartbeat(.seconds(30))
                .revert("undo_extract")
                .priority(0)
            Step("transform").deps("extract")
            Step("load").deps("transform")
        }
        let expected = try parse(
            #"""
            { "name": "etl", "id": "etl-2026-11-22", "input": {"day": "2026-11-22"}, "timeout_s": 3600,
              "tasks": [
                { "id": "extract", "handler": "extract", "queue": "default", "input": {"url": "..."},
                  "retry": {"max_attempts": 3, "backoff_s": 1, "backoff_multiplier": 2.0, "max_backoff_s": 60},
                  "timeout_s": 300, "heartbeat_s": 30, "revert": "undo_extract", "priority": 0 },
                { "id": "transform", "handler": "transform", "deps": ["extract"] },
                { "id": "load", "handler": "load", "deps": ["transform"] } ] }
            """#
        )
        #expect(etl.document == expected)
    }

    @Test func functionFlowDiamondReadsLikeTheDecorators() throws {
        let job = Workflow(name: "test_job") {
            Step("step1")
            Step("step2").deps("step1")
            Step("step3").deps("step1")
            Step("step4").deps("step2", "step3")
        }
        #expect(
            job.document
                == (try parse(
                    #"""
                    {"name":"test_job","tasks":[{"id":"step1","handler":"step1"},
                      {"id":"step2","handler":"step2","deps":["step1"]},{"id":"step3","handler":"step3","deps":["step1"]},
                      {"id":"step4","handler":"step4","deps":["step2","step3"]}]}
                    """#
                ))
        )
    }

    @Test func gigqDynamicWorkflowUsesLoopsAndConditions() throws {
        let dates = ["2026-11-20", "2026-11-21"]
        let withReport = true
        let workflow = Workflow(name: "process_sales_2026-11-20_2026-11-21", timeout: .milliseconds(1500)) {
            Step("setup", handler: "setup_environment").input(["data_source": "sales"])
            for date in dates {
                Step("process_\(date)", handler: "process_date").deps("setup")
                    .input(["date": .string(date), "source": "sales"])
            }
            if withReport {
                Step("report", handler: "generate_report").deps(dates.map { "process_\($0)" })
            }
        }
        let doc = workflow.document
        #expect(doc["timeout_s"] == .double(1.5))
        #expect(doc["tasks"]?.arrayValue?.count == 4)
        #expect(
            doc["tasks"]?[1]
                == (try parse(
                    #"""
                    {"id":"process_2026-11-20","handler":"process_date","deps":["setup"],
                     "input":{"date":"2026-11-20","source":"sales"}}
                    """#
                ))
        )
        #expect(doc["tasks"]?[3]?["deps"] == ["process_2026-11-20", "process_2026-11-21"])
    }

    @Test func encodableInputsAndFractionalDurations() throws {
        struct Params: Encodable {
            var url: String
            var retries: Int
        }
        let step = try Step("fetch").input(encoding: Params(url: "https://x", retries: 2))
            .retry(maxAttempts: 2, backoff: .milliseconds(50))
        #expect(step.json["input"] == ["url": "https://x", "retries": 2])
        #expect(step.json["retry"] == ["max_attempts": 2, "backoff_s": 0.05])
    }
}
