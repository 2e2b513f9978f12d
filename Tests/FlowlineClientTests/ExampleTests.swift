import Flowline
import FlowlineExamples
import FlowlineProtocol
import FlowlineTestSupport
import Synchronization
import Testing

/// The seeds' examples (tools/examples/swift), each run in-process as `flowline-examples` runs it, against the
/// real daemon; the results are checked here again, independently of each example's own check.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ExampleTests {
    private static func server(_ f: DaemonFixture) -> ServerAddress { ServerAddress(port: f.port) }

    @Test func simpleflowComputesXPlusOneTimesTwo() async throws {
        let f = try DaemonFixture()
        for x in [1, 20] {
            let (record, _) = try await ExampleRunner.runAndCheck(
                SimpleflowBasic(x: x),
                on: Self.server(f),
                timeout: .seconds(30),
                say: { _ in }
            )
            #expect(record.state == "completed")
            #expect(record.result == ["double": .int(Int64((x + 1) * 2))])
            #expect(record.tasks.allSatisfy { $0.queue == "quickstart" })
        }
    }

    @Test func flinkStocksAveragesTheStandardDeviations() async throws {
        let f = try DaemonFixture()
        let example = FlinkStocks()
        let (record, _) = try await ExampleRunner.runAndCheck(
            example,
            on: Self.server(f),
            timeout: .seconds(30),
            say: { _ in }
        )
        // Worked out here, without the daemon: population standard deviation of each series, then their mean.
        var stdDevs: [Double] = []
        for stock in example.stocks {
            let prices = FlinkStocks.loadTimeseries(stock)
            let mean = prices.reduce(0, +) / Double(prices.count)
            let variance = prices.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(prices.count)
            stdDevs.append(variance.squareRoot())
            #expect(record.task("timeseries_workflow/load-\(stock)")?.result?.arrayValue?.count == 250)
        }
        let expected = stdDevs.reduce(0, +) / Double(stdDevs.count)
        let average = try #require(record.result?["timeseries_workflow"]?.doubleValue)
        #expect(abs(average - expected) < 1e-9)
        #expect(record.task("timeseries_workflow/average")?.deps.count == 3)
        #expect(record.tasks.count == 1 + 2 * example.stocks.count + 1)
    }

    /// TaskFlow's flow-level `Times(attempts)`: attaching fails at the first run, the whole flow reverts (the failed
    /// attachment's own revert first, then volume, then instance) and runs again, creating new ones, and completes.
    @Test func jobRunnerRevertsTheWholeFlowAndRunsItAgain() async throws {
        let f = try DaemonFixture()
        let example = JobRunner(attempts: 2)
        let (record, _) = try await ExampleRunner.runAndCheck(
            example,
            on: Self.server(f),
            timeout: .seconds(30),
            say: { _ in }
        )
        #expect(record.state == "completed" && record.json["attempt"] == .int(2))
        #expect(record.task("create_instance")?.result?["instance_id"] == .string("i-\(record.workflowID.suffix(8))-2"))
        #expect(record.task("attach_volume")?.attempts == 2)
        let suffix = record.workflowID.suffix(8)
        #expect(example.cleaned.all == ["detach", "vol-\(suffix)-1", "i-\(suffix)-1"])
        let client = try await f.client()
        defer { client.close() }
        #expect(
            JobRunner.revertOrder(try await client.history(record.workflowID))
                == ["attach_volume", "create_volume", "create_instance"]
        )
    }

    /// With attaching never working, every run of the flow reverts and the last one fails for good.
    @Test func jobRunnerFailsForGoodAfterEveryRun() async throws {
        let f = try DaemonFixture()
        let example = JobRunner(attempts: 2, succeedsOnRun: nil)
        let (record, _) = try await ExampleRunner.runAndCheck(
            example,
            on: Self.server(f),
            timeout: .seconds(30),
            say: { _ in }
        )
        #expect(record.state == "failed" && record.reverted && record.json["attempt"] == .int(2))
        #expect(record.task("attach_volume")?.state == "reverted")
        #expect(example.cleaned.all.count == 6)
    }

    @Test func gigqETLFansOutAndRetriesExtract() async throws {
        let f = try DaemonFixture()
        let (record, _) = try await ExampleRunner.runAndCheck(
            GigQETL(timestamp: "20261122_100000"),
            on: Self.server(f),
            timeout: .seconds(30),
            say: { _ in }
        )
        #expect(record.result == ["notify": ["notifications_sent": 1]])
        #expect(record.task("extract")?.attempts == 2 && record.task("extract")?.error == nil)
        #expect(record.task("extract")?.result == ["rows_extracted": 1000, "file": "data/raw_20261122_100000.csv"])
        #expect(record.task("combine_results")?.result == ["rows": 950, "chunks": 5])
        #expect(record.task("load")?.result == ["rows_loaded": 950])
        #expect((0..<5).allSatisfy { record.task("process_chunk_\($0)")?.result?["rows"] == 190 })
    }

    @Test func functionFlowWaitsForTheExternalEvent() async throws {
        let f = try DaemonFixture()
        let server = Self.server(f)
        let example = FunctionFlow(server: server) { jobID in
            Task {
                _ = try await ExternalEventListener.resolve(
                    key: jobID,
                    result: FunctionFlow.queryJobResult(jobID),
                    on: server,
                    delay: .milliseconds(200)
                )
            }
        }
        let (record, _) = try await ExampleRunner.runAndCheck(example, on: server, timeout: .seconds(30), say: { _ in })
        #expect(record.result == ["step4": ["result": "result4", "query_rows": 42]])
        #expect(record.task("step3")?.result == FunctionFlow.queryJobResult("bq-job-\(record.workflowID)-1"))
    }

    /// What tools/demo does: the daemon is SIGKILLed while step3 waits on its key and comes back on the same
    /// address; the worker reconnects, the runner's wait is asked again, and the listener's event completes it.
    @Test func functionFlowSurvivesADaemonCrashWhileStep3Waits() async throws {
        let f = try DaemonFixture(fixedPort: true)
        let server = Self.server(f)
        let started = Mutex<String?>(nil)
        let example = FunctionFlow { jobID in started.withLock { $0 = jobID } }
        let run = Task {
            try await ExampleRunner.runAndCheck(
                example,
                on: server,
                id: "ff-crash",
                timeout: .seconds(60),
                say: { _ in }
            )
        }
        let client = try await f.client()
        try await eventually("step3 to wait on its key") {
            (try? await client.get("ff-crash"))?.task("step3")?.state == "waiting"  // not found until submitted
        }
        client.close()
        try f.crashAndRestart()
        let jobID = try #require(started.withLock { $0 })
        #expect(
            try await ExternalEventListener.resolve(key: jobID, result: FunctionFlow.queryJobResult(jobID), on: server)
                == 1
        )
        let (record, _) = try await run.value
        #expect(record.state == "completed")
        #expect(record.result == ["step4": ["result": "result4", "query_rows": 42]])
    }
}
