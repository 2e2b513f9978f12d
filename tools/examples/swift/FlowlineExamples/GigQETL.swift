public import Flowline
import FlowlineProtocol
import Foundation

/// GigQ's daily ETL, with GigQ's per-job timeouts and attempts, plus GigQ's fan-out / fan-in:
/// `extract -> transform -> split_data -> process_chunk_0..4 -> combine_results -> load -> notify`.
/// Job params become task inputs. The API times out on extract's first attempt, so it takes two.
public struct GigQETL: Example {
    /// How many chunks `split_data` fans out to.
    public var chunks: Int
    /// The run's timestamp, in the file names (`yyyyMMdd_HHmmss`).
    public var timestamp: String

    /// The example, with a timestamp of now.
    public init(chunks: Int = 5, timestamp: String? = nil) {
        self.chunks = chunks
        self.timestamp = timestamp ?? Self.now()
    }

    private var rawFile: String { "data/raw_\(timestamp).csv" }
    private var transformedFile: String { "data/transformed_\(timestamp).csv" }
    private var chunkJobs: [String] { (0..<chunks).map { "process_chunk_\($0)" } }

    public var workflow: Workflow {
        Workflow(name: "daily_etl_job", input: ["day": .string(String(timestamp.prefix(8)))]) {
            Step("extract", handler: "extract_data")
                .input(["source_url": "https://example.com/api/data", "output_file": .string(rawFile)])
                .timeout(.seconds(300)).retry(maxAttempts: 3, backoff: .milliseconds(100))
            Step("transform", handler: "transform_data").deps("extract")
                .input(["input_file": .string(rawFile), "output_file": .string(transformedFile)])
                .timeout(.seconds(600)).retry(maxAttempts: 2)
            Step("split_data").deps("transform").timeout(.seconds(60))
            for chunk in 0..<chunks {
                Step("process_chunk_\(chunk)", handler: "process_chunk").deps("split_data")
                    .input(["chunk_id": .int(Int64(chunk))]).timeout(.seconds(120)).retry(maxAttempts: 3)
            }
            Step("combine_results").deps(chunkJobs).timeout(.seconds(60))
            Step("load", handler: "load_data").deps("combine_results")
                .input([
                    "input_file": .string(transformedFile),
                    "database_connection": "postgresql://user:pass@localhost/db",
                ])
                .timeout(.seconds(900)).retry(maxAttempts: 3)
            Step("notify", handler: "notify_completion").deps("load")
                .input(["recipients": ["data-team@example.com"]])
                .timeout(.seconds(60)).retry(maxAttempts: 5)
        }
    }

    private struct Files: Decodable { var input_file: String?, output_file: String?, source_url: String? }
    private struct Chunk: Decodable { var chunk_id: Int }
    private struct Rows: Decodable { var rows: Int }
    private struct Recipients: Decodable { var recipients: [String] }

    public func register(on worker: Worker) {
        let chunks = self.chunks
        worker.register("extract_data") { task -> JSON in
            let job = try task.input(as: Files.self)
            print(
                "Extracting data from \(job.source_url ?? "?") to \(job.output_file ?? "?") (attempt \(task.attempt))"
            )
            if task.attempt == 1 {  // transient: attempts are there for this
                throw TaskFailure(type: "ConnectionError", message: "the API timed out")
            }
            return ["rows_extracted": 1000, "file": .string(job.output_file ?? "")]
        }
        worker.register("transform_data") { task -> JSON in
            let job = try task.input(as: Files.self)
            print("Transforming data from \(job.input_file ?? "?") to \(job.output_file ?? "?")")
            let extracted = try task.dep("extract", as: [String: JSON].self)["rows_extracted"]?.int64Value ?? 0
            return ["rows_transformed": .int(extracted - 50), "file": .string(job.output_file ?? "")]
        }
        worker.register("split_data") { task in
            let rows = try task.dep("transform", as: [String: JSON].self)["rows_transformed"]?.int64Value ?? 0
            return (0..<Int64(chunks)).map { rows / Int64(chunks) + ($0 < rows % Int64(chunks) ? 1 : 0) }
        }
        worker.register("process_chunk") { task -> JSON in
            let chunk = try task.input(as: Chunk.self).chunk_id
            let split = try task.dep("split_data", as: [Int].self)
            return ["chunk": .int(Int64(chunk)), "rows": .int(Int64(split[chunk]))]
        }
        worker.register("combine_results") { task -> JSON in
            let rows = try task.deps.values.map { try $0.decode(as: Rows.self).rows }.reduce(0, +)
            return ["rows": .int(Int64(rows)), "chunks": .int(Int64(task.deps.count))]
        }
        worker.register("load_data") { task -> JSON in
            let job = try task.input(as: [String: String].self)
            print(
                "Loading data from \(job["input_file"] ?? "?") to \(job["database_connection"]?.split(separator: "@").last ?? "?")"
            )
            return ["rows_loaded": .int(Int64(try task.dep("combine_results", as: Rows.self).rows))]
        }
        worker.register("notify_completion") { task -> JSON in
            let recipients = try task.input(as: Recipients.self).recipients
            let loaded = try task.dep("load", as: [String: Int].self)["rows_loaded"] ?? 0
            print("Sending notification to \(recipients): \(loaded) rows loaded")
            return ["notifications_sent": .int(Int64(recipients.count))]
        }
    }

    public func check(_ record: WorkflowRecord, history: [HistoryEvent]) throws(ExampleFailure) -> [String] {
        guard record.state == "completed", record.result == ["notify": ["notifications_sent": 1]] else {
            throw ExampleFailure("daily_etl_job ended \(record.state) with result \(record.result ?? .null)")
        }
        guard record.task("load")?.result == ["rows_loaded": 950] else {
            throw ExampleFailure("load reported \(record.task("load")?.result ?? .null), not 950 rows")
        }
        guard let extract = record.task("extract"), extract.attempts == 2 else {
            throw ExampleFailure("extract should take 2 attempts (the first times out)")
        }
        return Self.checkWorkflowStatus(record) + [
            "result: \(record.result ?? .null); 950 rows loaded from \(chunks) chunks, extract took 2 attempts"
        ]
    }

    /// GigQ's job states, and the Flowline task states each counts.
    public static let gigqStatuses: [(String, Set<String>)] = [
        ("Pending", ["blocked", "ready"]), ("Running", ["running", "waiting", "reverting"]),
        ("Completed", ["completed"]), ("Failed", ["failed", "revert_failed"]),
        ("Cancelled", ["cancelled", "skipped", "reverted"]), ("Timeout", ["timed_out"]),
    ]

    /// The seed's `check_workflow_status`: each job's status counted, and the share completed, one line each.
    public static func checkWorkflowStatus(_ record: WorkflowRecord) -> [String] {
        let total = record.tasks.count
        let counts = gigqStatuses.map { name, states in (name, record.tasks.count { states.contains($0.state) }) }
        let completed = counts.first { $0.0 == "Completed" }?.1 ?? 0
        let percent = total > 0 ? Double(completed) / Double(total) * 100 : 0
        let progress = "Workflow Progress: \((percent * 10).rounded() / 10)% complete"
        return [progress] + counts.map { "\($0.0): \($0.1)" }
    }

    private static func now() -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd_HHmmss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date())
    }
}
