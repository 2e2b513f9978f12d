import FlowlineProtocol
import Testing

@testable import FlowlineCore

private func text(_ line: [UInt8]) -> String { String(decoding: line, as: UTF8.self) }

/// The daemon's per-task lines, byte for byte: they are written from pre-encoded fragments, so a fragment that
/// drifted from what `key(_:)` and `string(_:)` write would show here.
struct OutgoingTests {
    static func run(_ kind: RunKind, deps: [(TaskID, RawJSON)] = []) -> TaskRun {
        TaskRun(
            lease: LeaseID(.max),
            workflowID: WorkflowID("wf-\"1\""),
            workflowName: "etl",
            taskID: TaskID("split/chunk-3"),
            handler: "h\u{1}",
            attempt: 2,
            input: RawJSON(#"{"a":1}"#),
            deps: deps,
            workflowInput: RawJSON("[]"),
            deadline: Instant(milliseconds: 1_795_418_768_123),
            kind: kind,
            result: kind == .revert ? RawJSON("7") : nil
        )
    }

    @Test func taskRunLines() {
        let common =
            #"{"jsonrpc":"2.0","method":"task.run","params":{"lease":"L18446744073709551615","workflow_id":"wf-\"1\"","#
            + #""workflow_name":"etl","task_id":"split/chunk-3","handler":"h\u0001","attempt":2,"input":{"a":1},"#
        #expect(
            text(RPCEncoder.taskRun(Self.run(.attempt)))
                == common + #""deps":{},"workflow_input":[],"deadline":"2026-11-23T07:26:08.123Z"}}"# + "\n"
        )
        #expect(
            text(
                RPCEncoder.taskRun(
                    Self.run(.poll, deps: [(TaskID("a"), RawJSON("1")), (TaskID("b"), RawJSON("null"))])
                )
            )
                == common
                + #""deps":{"a":1,"b":null},"workflow_input":[],"deadline":"2026-11-23T07:26:08.123Z","poll":true}}"#
                + "\n"
        )
        var revert = Self.run(.revert)
        revert.deadline = nil
        #expect(
            text(RPCEncoder.taskRun(revert))
                == common + #""deps":{},"workflow_input":[],"deadline":null,"revert":true,"result":7}}"# + "\n"
        )
    }

    @Test func taskCancelAndReplyLines() {
        #expect(
            text(RPCEncoder.taskCancel(lease: LeaseID(0), workflow: WorkflowID("w"), task: TaskID("t"), reason: "r"))
                == #"{"jsonrpc":"2.0","method":"task.cancel","params":{"lease":"L0","workflow_id":"w","#
                + #""task_id":"t","reason":"r"}}"# + "\n"
        )
        #expect(text(RPCEncoder.reply(id: 3, .ok)) == #"{"jsonrpc":"2.0","id":3,"result":{}}"# + "\n")
        #expect(
            text(RPCEncoder.reply(id: "x", .submitted(WorkflowID("w"), created: true)))
                == #"{"jsonrpc":"2.0","id":"x","result":{"workflow_id":"w","created":true}}"# + "\n"
        )
        #expect(
            text(RPCEncoder.reply(id: nil, .matched(2))) == #"{"jsonrpc":"2.0","id":null,"result":{"matched":2}}"#
                + "\n"
        )
        #expect(
            text(RPCEncoder.reply(id: -1, .failure(.staleLease)))
                == text(RPCEncoder.error(id: -1, .staleLease))
        )
    }

    @Test("lines appended to an output buffer are byte for byte the lines encoded on their own")
    func appendedLinesMatch() {
        let replies: [(RPCID?, Reply)] = [
            (3, .ok), ("x", .submitted(WorkflowID("w\n"), created: false)), (nil, .matched(0)),
            (-1, .failure(.staleLease)), (4, .failure(.unknownWorkflow(WorkflowID("gone")))),
        ]
        let runs = [Self.run(.attempt), Self.run(.poll, deps: [(TaskID("a"), RawJSON("1"))]), Self.run(.revert)]
        var output = Array("earlier output\n".utf8)
        var expected = output
        for (id, reply) in replies {
            RPCEncoder.reply(id: id, reply, appendingTo: &output)
            expected += RPCEncoder.reply(id: id, reply)
            for run in runs {
                RPCEncoder.taskRun(run, appendingTo: &output)
                expected += RPCEncoder.taskRun(run)
            }
        }
        #expect(text(output) == text(expected))
    }
}
