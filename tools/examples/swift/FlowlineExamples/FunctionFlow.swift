public import Flowline
public import FlowlineProtocol

/// Function Flow's example job: `step1 -> step2, step3 -> step4`. `step3` starts a long query job and waits on a
/// future keyed by the job's id; the job's completion event reaches a separate external-event listener (the seed's
/// Cloud Function), which resolves the future with the job's outcome, `{"job_id": ..., "rows": 42}`.
public struct FunctionFlow: Example {
    /// Starts the query job `jobID` somewhere else. Whatever runs it must, when it is done, hand its completion
    /// to the external-event listener (`ExternalEventListener.resolve`).
    public var startQueryJob: @Sendable (_ jobID: String) -> Void
    /// Where `step4` reads other tasks' results (Function Flow's `job.get_task_result`); nil: from its deps only.
    public var server: ServerAddress?

    /// The example, with the way query jobs are started, and the daemon `step4` reads its workflow's record from.
    public init(server: ServerAddress? = nil, startQueryJob: @escaping @Sendable (_ jobID: String) -> Void) {
        self.startQueryJob = startQueryJob
        self.server = server
    }

    /// Function Flow's `job.get_task_result`: the result of any completed task of the workflow, not only a dep's.
    /// Flowline needs no method of its own for it: the workflow's record (`workflow.get`) holds every task's result.
    public static func taskResult(
        _ taskID: String,
        of workflowID: String,
        on server: ServerAddress
    ) async throws -> JSON {
        let client = try await server.connect(name: "get-task-result")
        defer { client.close() }
        let record = try await client.get(workflowID)
        guard let task = record.task(taskID), task.state == "completed" else {
            throw TaskFailure(message: "task \(taskID) has not completed", retryable: false)
        }
        return task.result ?? .null
    }

    /// The rows every fake query job reports.
    public static let queryRows = 42

    /// The completion event of the query job `jobID`: the future's result.
    public static func queryJobResult(_ jobID: String) -> JSON {
        ["job_id": .string(jobID), "rows": .int(Int64(queryRows))]
    }

    /// The query job `step3` of `workflowID` starts on its `attempt`: also the key of the future it waits on.
    public static func queryJobID(workflowID: String, attempt: Int) -> String { "bq-job-\(workflowID)-\(attempt)" }

    public var workflow: Workflow {
        Workflow(name: "test_job") {
            Step("step1")
            Step("step2").deps("step1")
            Step("step3").deps("step1")
            Step("step4").deps("step2", "step3")
        }
    }

    private struct QueryJob: Decodable { var rows: Int }

    public func register(on worker: Worker) {
        // Tasks 1 and 2: simple tasks that return a string.
        worker.register("step1") { _ in "result1" }
        worker.register("step2") { _ in "result2" }
        // Task 3: an asynchronous query job. It starts the job and waits for its completion event.
        let startQueryJob = self.startQueryJob
        worker.register("step3") { task -> TaskOutcome in
            let jobID = Self.queryJobID(workflowID: task.workflowID, attempt: task.attempt)
            startQueryJob(jobID)
            return .await(.key(jobID, timeout: .seconds(300)))
        }
        // Task 4: checks the result of task 2 and reads the query's.
        let server = self.server
        worker.register("step4") { task -> JSON in
            var step2 = try task.dep("step2", as: String.self)
            if let server {
                // As the seed's task4 does, through `job.get_task_result`; step1 is no dep of step4.
                step2 = try await Self.taskResult("step2", of: task.workflowID, on: server).stringValue ?? "?"
                let step1 = try await Self.taskResult("step1", of: task.workflowID, on: server)
                guard step1 == "result1" else { throw TaskFailure(message: "task1 said \(step1)", retryable: false) }
            }
            guard step2 == "result2" else { throw TaskFailure(message: "task2 said \(step2)", retryable: false) }
            let query = try task.dep("step3", as: QueryJob.self)
            return ["result": "result4", "query_rows": .int(Int64(query.rows))]
        }
    }

    public func check(_ record: WorkflowRecord, history: [HistoryEvent]) throws(ExampleFailure) -> [String] {
        let expected: JSON = ["step4": ["result": "result4", "query_rows": .int(Int64(Self.queryRows))]]
        guard record.state == "completed", record.result == expected else {
            throw ExampleFailure("test_job ended \(record.state) with result \(record.result ?? .null)")
        }
        return ["result: \(expected)"]
    }
}

/// The seed's Cloud Function, triggered by finished query jobs: resolves the future keyed by the job id.
public enum ExternalEventListener {
    /// After `delay`, resolves the future `key` with `result` on `server`, connecting again while the daemon
    /// cannot be reached (for at most `patience`: it may be restarting). Returns how many tasks were waiting.
    public static func resolve(
        key: String,
        result: JSON,
        on server: ServerAddress,
        delay: Duration = .zero,
        patience: Duration = .seconds(30)
    ) async throws -> Int {
        if delay > .zero { try await Task.sleep(for: delay) }
        let deadline = ContinuousClock.now + patience
        while true {
            do {
                let client = try await server.connect(name: "external-event-listener", patience: patience)
                defer { client.close() }
                return try await client.resolve(key: key, result: result)
            } catch {
                guard case .connection = error as? FlowlineError, ContinuousClock.now < deadline else { throw error }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }
}
