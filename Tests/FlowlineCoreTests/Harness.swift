import FlowlineCore

/// Drives a coordinator the way the shell does and keeps the journal it would write.
struct Harness {
    var coordinator = Coordinator()
    var journal: [Event] = []
    var nextRequest: UInt64 = 1

    mutating func send(_ command: Command, at ms: Int64) -> Decision {
        let decision = coordinator.handle(command, at: Instant(milliseconds: ms))
        journal += decision.events
        return decision
    }

    mutating func request() -> RequestID {
        defer { nextRequest += 1 }
        return RequestID(nextRequest)
    }

    @discardableResult
    mutating func submit(_ spec: WorkflowSpec, at ms: Int64 = 0) -> (WorkflowID, Decision) {
        let decision = send(.submit(spec, request: request()), at: ms)
        for case .reply(_, .submitted(let id, _)) in decision.effects { return (id, decision) }
        preconditionFailure("submit did not answer")
    }

    mutating func worker(
        _ id: UInt64,
        queues: [String] = ["default"],
        concurrency: Int = 10,
        handlers: [String]? = nil,
        at ms: Int64 = 0
    ) -> Decision {
        send(
            .connectWorker(WorkerID(id), name: "w\(id)", queues: queues, concurrency: concurrency, handlers: handlers),
            at: ms
        )
    }

    mutating func complete(_ run: TaskRun, by worker: UInt64 = 1, result: String = "null", at ms: Int64) -> Decision {
        send(
            .complete(run.lease, result: RawJSON(result), poll: nil, from: WorkerID(worker), request: request()),
            at: ms
        )
    }

    mutating func fail(_ run: TaskRun, by worker: UInt64 = 1, retryable: Bool = true, at ms: Int64) -> Decision {
        let error = TaskError(type: "boom", message: "it broke", retryable: retryable)
        return send(.fail(run.lease, error: error, from: WorkerID(worker), request: request()), at: ms)
    }

    func workflow(_ id: WorkflowID) -> Workflow { coordinator.state.workflows[id]! }
    func task(_ w: WorkflowID, _ t: String) -> TaskRecord { workflow(w).task(TaskID(t))! }
}

extension Decision {
    var runs: [TaskRun] {
        effects.compactMap { if case .runTask(_, let run) = $0 { run } else { nil } }
    }
    var cancels: [TaskID] {
        effects.compactMap { if case .cancelTask(_, _, _, let t, _) = $0 { t } else { nil } }
    }
    var timers: [TimerID: Instant] {
        var result: [TimerID: Instant] = [:]
        for case .armTimer(let id, let at, _) in effects { result[id] = at }
        return result
    }
    var replies: [Reply] {
        effects.compactMap { if case .reply(_, let reply) = $0 { reply } else { nil } }
    }
}
