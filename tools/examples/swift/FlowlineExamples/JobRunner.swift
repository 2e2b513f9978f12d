public import Flowline
import FlowlineProtocol
import Synchronization

/// The TaskFlow job runner's VPS example: create an EC2 instance and an EBS volume, then attach the volume, as a
/// linear flow. Each creation names a revert (TaskFlow's `revert` method) that cleans it up. Attaching is retried
/// (TaskFlow's `Times(attempts)`) and fails for good, so the workflow fails and the reverts run newest first:
/// the volume is deleted, then the instance terminated, each revert receiving its task's input and result.
public struct JobRunner: Example {
    /// Attempts at attaching the volume.
    public var attempts: Int
    /// What the reverts cleaned up, in the order they ran.
    public let cleaned = CleanupLog()

    /// The example, attaching `attempts` times.
    public init(attempts: Int = 3) { self.attempts = attempts }

    public var workflow: Workflow {
        Workflow(name: "flow_1", input: ["message": "This is the message from the store"]) {
            Step("create_instance").input(["instance_type": "t3.micro"]).revert("delete_instance")
            Step("create_volume").deps("create_instance").input(["size_gb": 20]).revert("delete_volume")
            Step("attach_volume").deps("create_instance", "create_volume")
                .retry(maxAttempts: attempts, backoff: .milliseconds(200), multiplier: 2)
        }
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
        worker.register("create_instance") { task in
            let type = try task.input(as: [String: String].self)["instance_type"] ?? "t3.micro"
            // The message comes from the workflow input: TaskFlow's store.
            print("creating \(type) instance (\(try task.workflowInput(as: Store.self).message))")
            return Instance(instance_id: "i-\(task.workflowID.suffix(8))", instance_type: type)
        }
        worker.register("create_volume") { task in
            let size = try task.input(as: [String: Int].self)["size_gb"] ?? 20
            print("creating \(size) GB volume")
            return Volume(volume_id: "vol-\(task.workflowID.suffix(8))", size_gb: size)
        }
        worker.register("attach_volume") { task -> JSON in
            let instance = try task.dep("create_instance", as: Instance.self)
            let volume = try task.dep("create_volume", as: Volume.self)
            print("attempt \(task.attempt): attaching \(volume.volume_id) to \(instance.instance_id)")
            throw TaskFailure(type: "RuntimeError", message: "volume \(volume.volume_id) is stuck in 'creating'")
        }
        let cleaned = self.cleaned
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
        // This flow is meant to fail and clean up after itself.
        guard record.state == "failed", record.reverted, record.revertFailures.isEmpty else {
            throw ExampleFailure("flow_1 ended \(record.state), reverted \(record.reverted) \(record.revertFailures)")
        }
        guard let attach = record.task("attach_volume"), attach.state == "failed", attach.attempts == attempts else {
            throw ExampleFailure("attach_volume should fail for good after \(attempts) attempts")
        }
        let order = Self.revertOrder(history)
        guard order == ["create_volume", "create_instance"] else {
            throw ExampleFailure("reverts ran in the order \(order), not volume then instance")
        }
        // Reverts run in reverse order of completion, and the linear flow created the instance first.
        let instanceDone = record.task("create_instance")?.finishedAt.flatMap(Timestamp.parse)
        let volumeDone = record.task("create_volume")?.finishedAt.flatMap(Timestamp.parse)
        guard let instanceDone, let volumeDone, instanceDone <= volumeDone,
            record.task("create_instance")?.state == "reverted", record.task("create_volume")?.state == "reverted"
        else { throw ExampleFailure("both creations should have completed, instance first, and been reverted") }
        return [
            "attach_volume failed for good after \(attach.attempts) attempts: \(attach.error?.message ?? "?")",
            "reverted: volume then instance (\(order.joined(separator: ", "))), revert failures: none",
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
