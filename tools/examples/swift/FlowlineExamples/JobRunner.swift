public import Flowline
import FlowlineProtocol
import Synchronization

/// The TaskFlow job runner's VPS example: create an EC2 instance and an EBS volume, then attach the volume, as a
/// linear flow with `retry=Times(attempts)` on the flow. Each task names a revert (TaskFlow's `revert` method);
/// attaching's revert also runs when attaching itself fails (`revert_on_failure`: "when the execute fails the
/// revert is run"). When attaching fails, the whole flow reverts, newest first (the half-made attachment, the
/// volume, the instance), and runs again from the start, creating a new instance and volume: a workflow `retry`.
/// Attaching succeeds at the flow's `succeedsOnRun`-th run (never when nil, and then the flow fails for good).
public struct JobRunner: Example {
    /// Runs of the whole flow (TaskFlow's `Times(attempts)`).
    public var attempts: Int
    /// The run of the flow at which attaching works; nil: never.
    public var succeedsOnRun: Int?
    /// What the reverts cleaned up, in the order they ran.
    public let cleaned = CleanupLog()

    /// The example: `attempts` runs of the flow, attaching working at the last one unless `succeedsOnRun` says.
    public init(attempts: Int = 3, succeedsOnRun: Int? = -1) {
        self.attempts = attempts
        self.succeedsOnRun = succeedsOnRun == -1 ? attempts : succeedsOnRun
    }

    public var workflow: Workflow {
        Workflow(name: "flow_1", input: ["message": "This is the message from the store"]) {
            Step("create_instance").input(["instance_type": "t3.micro"]).revert("delete_instance")
            Step("create_volume").deps("create_instance").input(["size_gb": 20]).revert("delete_volume")
            Step("attach_volume").deps("create_instance", "create_volume").revert("detach_volume").revertOnFailure()
        }
        .retry(maxAttempts: attempts, backoff: .milliseconds(200), multiplier: 2)
    }

    private struct Instance: Codable {
        var instance_id: String
        var instance_type: String
    }
    private struct Volume: Codable {
        var volume_id: String
        var size_gb: Int
    }
    private struct Store: Decodable { var message: String }

    public func register(on worker: Worker) {
        // Each run of the flow runs each task once, so a task's attempt number is the flow's run.
        worker.register("create_instance") { task in
            let type = try task.input(as: [String: String].self)["instance_type"] ?? "t3.micro"
            // The message comes from the workflow input: TaskFlow's store.
            print("run \(task.attempt): creating \(type) instance (\(try task.workflowInput(as: Store.self).message))")
            return Instance(instance_id: "i-\(task.workflowID.suffix(8))-\(task.attempt)", instance_type: type)
        }
        worker.register("create_volume") { task in
            let size = try task.input(as: [String: Int].self)["size_gb"] ?? 20
            print("run \(task.attempt): creating \(size) GB volume")
            return Volume(volume_id: "vol-\(task.workflowID.suffix(8))-\(task.attempt)", size_gb: size)
        }
        let succeedsOnRun = self.succeedsOnRun
        worker.register("attach_volume") { task -> JSON in
            let instance = try task.dep("create_instance", as: Instance.self)
            let volume = try task.dep("create_volume", as: Volume.self)
            print("run \(task.attempt): attaching \(volume.volume_id) to \(instance.instance_id)")
            guard task.attempt == succeedsOnRun else {
                throw TaskFailure(type: "RuntimeError", message: "volume \(volume.volume_id) is stuck in 'creating'")
            }
            return ["attached": .string(volume.volume_id)]
        }
        let cleaned = self.cleaned
        worker.register("detach_volume") { task -> JSON in
            // Run because attaching failed: its result is null and the run carries its error.
            print("revert: detaching after \(task.revertError?.message ?? "?")")
            cleaned.append("detach")
            return .null
        }
        worker.register("delete_instance") { task -> JSON in
            let instance = try (task.result ?? .null).decode(as: Instance.self)
            print("revert: terminating instance \(instance.instance_id)")
            cleaned.append(instance.instance_id)
            return .null
        }
        worker.register("delete_volume") { task -> JSON in
            let volume = try (task.result ?? .null).decode(as: Volume.self)
            print("revert: deleting volume \(volume.volume_id)")
            cleaned.append(volume.volume_id)
            return .null
        }
    }

    public func check(_ record: WorkflowRecord, history: [HistoryEvent]) throws(ExampleFailure) -> [String] {
        let runs = record.json["attempt"].flatMap { if case .int(let n) = $0 { Int(n) } else { nil } } ?? 0
        let failedRuns = succeedsOnRun.map { $0 - 1 } ?? attempts
        let expected = succeedsOnRun == nil ? "failed" : "completed"
        guard record.state == expected, runs == min(failedRuns + 1, attempts) else {
            throw ExampleFailure(
                "flow_1 ended \(record.state) at run \(runs), not \(expected) at run \(failedRuns + 1)"
            )
        }
        let order = Self.revertOrder(history)
        let once = ["attach_volume", "create_volume", "create_instance"]
        guard order == Array(repeating: once, count: failedRuns).flatMap({ $0 }) else {
            throw ExampleFailure("reverts ran in the order \(order), not attachment, volume, instance per failed run")
        }
        return [
            "flow_1 \(record.state) at run \(runs) of \(attempts): \(failedRuns) failed run(s) reverted and retried",
            "reverted per failed run: attachment, then volume, then instance",
        ]
    }

    /// The reverted tasks, in the order their reverts finished (the journal's `task_reverted` events).
    public static func revertOrder(_ history: [HistoryEvent]) -> [String] {
        history.filter { $0.type == "task_reverted" }.sorted { $0.seq < $1.seq }.compactMap {
            $0.fields["task_id"]?.stringValue
        }
    }
}

/// The resources the reverts cleaned up, in order; any thread.
public final class CleanupLog: Sendable {
    private let entries = Mutex<[String]>([])

    /// An empty log.
    public init() {}

    /// Records one cleanup.
    public func append(_ entry: String) { entries.withLock { $0.append(entry) } }

    /// The cleanups so far, oldest first.
    public var all: [String] { entries.withLock { $0 } }
}
