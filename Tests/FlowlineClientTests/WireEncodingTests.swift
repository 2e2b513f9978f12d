import FlowlineProtocol
import Testing

@testable import Flowline

/// The exact lines a worker sends for each outcome (SPEC §2), checked byte for byte.
struct WireEncodingTests {
    private func line(_ outcome: TaskOutcome, lease: String = "L1") -> String {
        let (method, params) = outcome.message(lease: lease)
        return String(decoding: RPCEncoder.request(id: 7, method: method, params: params), as: UTF8.self)
    }

    @Test func completeAndFail() {
        #expect(
            line(.result(["rows": 4]))
                == #"{"jsonrpc":"2.0","id":7,"method":"task.complete","params":{"lease":"L1","result":{"rows":4}}}"#
                + "\n"
        )
        #expect(
            line(.fail(type: "bad_input", message: "no url", retryable: false))
                == #"{"jsonrpc":"2.0","id":7,"method":"task.fail","params":{"lease":"L1","error":{"type":"bad_input","message":"no url","retryable":false}}}"#
                + "\n"
        )
    }

    @Test func awaitEachKindOfFuture() {
        #expect(
            line(.await(.key("bq-job-123", timeout: .seconds(3600))))
                == #"{"jsonrpc":"2.0","id":7,"method":"task.await","params":{"lease":"L1","future":{"key":"bq-job-123","timeout_s":3600}}}"#
                + "\n"
        )
        #expect(
            line(.await(.sleep(.milliseconds(50))))
                == #"{"jsonrpc":"2.0","id":7,"method":"task.await","params":{"lease":"L1","future":{"sleep_s":0.05}}}"#
                + "\n"
        )
        let poll = Future.poll(
            handler: "check_job",
            input: ["job": "j1"],
            interval: .seconds(10),
            timeout: .seconds(60)
        )
        #expect(
            line(.await(poll))
                == #"{"jsonrpc":"2.0","id":7,"method":"task.await","params":{"lease":"L1","future":{"poll":{"handler":"check_job","input":{"job":"j1"},"interval_s":10},"timeout_s":60}}}"#
                + "\n"
        )
        #expect(Future.key("k").json == ["key": "k"])
    }

    @Test func spawnFromTheBuilder() {
        let outcome = TaskOutcome.spawn(output: "merge") {
            for i in 0..<2 { Step("chunk-\(i)", handler: "square").input(["n": .int(Int64(i))]) }
            Step("merge", handler: "sum").deps("chunk-0", "chunk-1")
        }
        #expect(
            line(outcome)
                == #"{"jsonrpc":"2.0","id":7,"method":"task.spawn","params":{"lease":"L1","tasks":["#
                + #"{"input":{"n":0},"id":"chunk-0","handler":"square"},{"input":{"n":1},"id":"chunk-1","handler":"square"},"#
                + #"{"deps":["chunk-0","chunk-1"],"id":"merge","handler":"sum"}],"output":"merge"}}"# + "\n"
        )
    }

    @Test("an outcome written straight out is byte for byte the line its JSON params give")
    func directParamsMatchTheJSONPath() {
        let outcomes: [TaskOutcome] = [
            .result(["rows": 4]), .result(["z": 1, "a": ["y": "\u{7}", "b": [1.5, nil]]]), .result("text"),
            .result(nil), .pending, .done(["k": "v"]), .fail(type: "t", message: "m\n\"q\"", retryable: true),
            .await(.key("k", timeout: .seconds(2))), .await(.sleep(.seconds(1))),
            .spawn(tasks: [["id": "a"]], output: "a"),
        ]
        for outcome in outcomes {
            for lease in ["L1", "L18446744073709551615", "odd \"lease\""] {
                let direct = RPCEncoder.request(id: 7, method: outcome.method) {
                    outcome.writeParams(lease: lease, into: &$0)
                }
                let (method, params) = outcome.message(lease: lease)
                #expect(direct == RPCEncoder.request(id: 7, method: method, params: params), "\(outcome)")
            }
        }
    }

    @Test func pollAnswers() {
        #expect(TaskOutcome.pending == .result(["done": false]))
        #expect(TaskOutcome.done("x") == .result(["done": true, "result": "x"]))
    }

    @Test func thrownErrorsBecomeFailures() {
        struct Boom: Error {}
        #expect(TaskFailure(thrown: Boom()) == TaskFailure(type: "Boom", message: "Boom()", retryable: true))
        let own = TaskFailure(type: "quota", message: "over", retryable: false)
        #expect(TaskFailure(thrown: own) == own)
    }

    @Test func taskRunDecodesIntoAContext() throws {
        let params = try JSONParser.parse(
            Array(
                #"""
                {"lease":"L9","workflow_id":"w","workflow_name":"etl","task_id":"t","handler":"undo","attempt":2,
                 "input":{"n":3},"deps":{"a":[1,2]},"workflow_input":{"day":"d"},"deadline":null,"revert":true,"result":5}
                """#.utf8
            )
        )
        let context = try #require(TaskContext(params: params) { _, _ in })
        #expect(context.leaseID == "L9" && context.attempt == 2 && context.isRevert && !context.isPoll)
        #expect(context.result == 5 && context.deadline == nil)
        struct Input: Decodable { var n: Int }
        #expect(try context.input(as: Input.self).n == 3)
        #expect(try context.dep("a", as: [Int].self) == [1, 2])
        #expect(throws: TaskFailure.self) { try context.input(as: [String].self) }
    }

    @Test func taskRunReadsEveryMemberAndDefaultsTheOptionalOnes() throws {
        func context(_ text: String) throws -> TaskContext? {
            TaskContext(params: try JSONParser.parse(Array(text.utf8))) { _, _ in }
        }
        let full = try #require(
            try context(
                #"{"lease":"L1","workflow_id":"wf-7","workflow_name":"etl","task_id":"split/chunk-3","handler":"p","#
                    + #""attempt":4,"input":[1],"deps":{},"workflow_input":"w","deadline":"2026-11-23T10:00:00.000Z","#
                    + #""poll":true,"other":1,"leases":"x","Lease":"y"}"#
            )
        )
        #expect(full.leaseID == "L1" && full.workflowID == "wf-7" && full.workflowName == "etl")
        #expect(full.taskID == "split/chunk-3" && full.handler == "p" && full.attempt == 4)
        #expect(full.input == [1] && full.deps.isEmpty && full.workflowInput == "w")
        #expect(full.deadline == "2026-11-23T10:00:00.000Z" && full.isPoll && !full.isRevert && full.result == nil)
        let minimal = try #require(try context(#"{"lease":"L2","workflow_id":"w","task_id":"t","handler":"h"}"#))
        #expect(minimal.workflowName == "" && minimal.attempt == 1 && minimal.input == .object([:]))
        #expect(minimal.workflowInput == .object([:]) && minimal.deadline == nil && !minimal.isPoll)
        for missing in ["lease", "workflow_id", "task_id", "handler"] {
            var members: [String: JSON] = ["lease": "L3", "workflow_id": "w", "task_id": "t", "handler": "h"]
            members[missing] = nil
            #expect(TaskContext(params: .object(JSONObject(members))) { _, _ in } == nil, "\(missing)")
        }
    }
}

struct TimestampAndErrorTests {
    @Test func parsesRecordTimes() {
        #expect(Timestamp.parse("1970-01-01T00:00:00.000Z") == 0)
        #expect(Timestamp.parse("2026-11-22T10:00:00.250Z") == 1_795_341_600.25)
        #expect(Timestamp.parse("2026-11-22T11:00:00+01:00") == 1_795_341_600)
        #expect(Timestamp.parse("2026-11-22") == nil)
        #expect(Timestamp.parse("2026-13-22T10:00:00Z") == nil)
    }

    @Test func rpcErrorsMapToCodes() {
        let error = FlowlineError(RPCError.invalidParams("unknown dep", path: "tasks[1].deps[0]"))
        #expect(
            error == .rpc(.invalidParams, message: "Invalid params: unknown dep", data: ["path": "tasks[1].deps[0]"])
        )
        #expect(error.path == "tasks[1].deps[0]")
        #expect(RPCErrorCode(code: -32002) == .notFound)
        #expect(RPCErrorCode(code: -1) == .other(-1))
        #expect(RPCErrorCode.staleLease.code == -32003)
    }
}
