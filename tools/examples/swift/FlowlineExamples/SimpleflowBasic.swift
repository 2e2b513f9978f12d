public import Flowline
import FlowlineProtocol

/// simpleflow's quickstart, `(x + 1) * 2`: `increment` reads `x` from the workflow input (simpleflow's
/// `{"args": [1]}`), `double` reads `increment`'s result. Both run on simpleflow's task list, `quickstart`.
public struct SimpleflowBasic: Example {
    /// The workflow's `x`.
    public var x: Int

    /// The example for `x`.
    public init(x: Int = 1) { self.x = x }

    public var workflow: Workflow {
        Workflow(name: "basic", input: ["x": .int(Int64(x))]) {
            Step("increment").queue("quickstart")
            Step("double").deps("increment").queue("quickstart")
        }
    }

    public var queues: [String] { ["quickstart"] }

    private struct Input: Decodable { var x: Int }

    public func register(on worker: Worker) {
        worker.register("increment") { task in try task.workflowInput(as: Input.self).x + 1 }
        worker.register("double") { task in try task.dep("increment", as: Int.self) * 2 }
    }

    public func check(_ record: WorkflowRecord, history: [HistoryEvent]) throws(ExampleFailure) -> [String] {
        guard record.state == "completed", let doubled = record.result?["double"]?.int64Value else {
            throw ExampleFailure("basic ended \(record.state) with result \(record.result ?? .null)")
        }
        guard doubled == Int64((x + 1) * 2) else { throw ExampleFailure("(\(x) + 1) * 2 came out as \(doubled)") }
        return ["(\(x) + 1) * 2 = \(doubled)"]
    }
}
