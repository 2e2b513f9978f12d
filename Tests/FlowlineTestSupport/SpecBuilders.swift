public import FlowlineCore

extension WorkflowSpec {
    /// The Function Flow seed's diamond: step1 → step2, step3 → step4.
    public static func diamond(id: String? = nil, queue: String = "default") -> WorkflowSpec {
        WorkflowSpec(
            name: "diamond",
            id: id.map(WorkflowID.init),
            tasks: [
                TaskSpec(id: "step1", handler: "step1", queue: queue),
                TaskSpec(id: "step2", handler: "step2", queue: queue, deps: ["step1"]),
                TaskSpec(id: "step3", handler: "step3", queue: queue, deps: ["step1"]),
                TaskSpec(id: "step4", handler: "step4", queue: queue, deps: ["step2", "step3"]),
            ]
        )
    }

    /// A chain of `length` tasks, each depending on the one before.
    public static func chain(length: Int, id: String? = nil, queue: String = "default") -> WorkflowSpec {
        WorkflowSpec(
            name: "chain",
            id: id.map(WorkflowID.init),
            tasks: (0..<length).map { i in
                TaskSpec(id: "t\(i)", handler: "step", queue: queue, deps: i == 0 ? [] : ["t\(i - 1)"])
            }
        )
    }

    /// One task.
    public static func single(
        id: String? = nil,
        queue: String = "default",
        retry: RetryPolicy = .default,
        timeout: Duration? = nil,
        heartbeat: Duration? = nil,
        priority: Int = 0
    ) -> WorkflowSpec {
        WorkflowSpec(
            name: "single",
            id: id.map(WorkflowID.init),
            tasks: [
                TaskSpec(
                    id: "only",
                    handler: "work",
                    queue: queue,
                    retry: retry,
                    timeout: timeout,
                    heartbeat: heartbeat,
                    priority: priority
                )
            ]
        )
    }
}
