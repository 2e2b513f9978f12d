import FlowlineCore
import FlowlineTestSupport

extension Harness {
    /// One random command of a random run: submits (with reverts, timeouts, ids), workers coming and going,
    /// completions, failures, timers, awaits, resolutions, spawns, poll answers and cancels; and flow control:
    /// tasks under limit and fairness keys, limits set and deleted, workflows and queues paused and resumed.
    mutating func randomCommand(
        step: Int,
        open: [TaskRun],
        timers: [TimerID],
        random: inout SeededRandom,
        now: Int64
    ) -> Decision {
        switch Int.random(in: 0..<17, using: &random) {
        case 14:
            guard let w = coordinator.state.order.randomElement(using: &random) else { return Decision() }
            return send(.pauseWorkflow(w, paused: Bool.random(using: &random), request: request()), at: now)
        case 15:
            return send(
                .pauseQueue("default", paused: Int.random(in: 0..<3, using: &random) == 0, request: request()),
                at: now
            )
        case 16:
            let key = ["a", "b"].randomElement(using: &random)!
            if Int.random(in: 0..<4, using: &random) == 0 {
                return send(.deleteLimit(key: key, request: request()), at: now)
            }
            let limit = Limit(
                concurrency: Int.random(in: 0...3, using: &random),
                perSecond: Bool.random(using: &random) ? Double(Int.random(in: 1...20, using: &random)) : nil
            )
            return send(.setLimit(key: key, limit, request: request()), at: now)
        case 10:
            guard let run = open.randomElement(using: &random) else { return Decision() }
            let futures: [Future] = [
                .key("k\(Int.random(in: 0..<4, using: &random))", timeout: .seconds(3)), .sleep(.milliseconds(200)),
                .poll(handler: "check", input: .emptyObject, interval: .milliseconds(100), timeout: .seconds(5)),
            ]
            let future = futures.randomElement(using: &random)!
            return send(
                .await(run.lease, future, from: WorkerID(UInt64.random(in: 1...3, using: &random)), request: nil),
                at: now
            )
        case 11:
            let outcome: FutureOutcome =
                Bool.random(using: &random)
                ? .resolved(RawJSON("\(step)")) : .rejected(TaskError(type: "no", message: "rejected"))
            let key = "k\(Int.random(in: 0..<4, using: &random))"
            // Half carry one of a few resolution ids, so that some are re-sends.
            let id = Int.random(in: 0..<6, using: &random)
            return send(.resolve(key: key, outcome, resolutionID: id < 3 ? "r\(id)" : nil, request: request()), at: now)
        case 12:
            guard let run = open.randomElement(using: &random) else { return Decision() }
            let tasks = [
                TaskSpec(id: "s0", handler: "h", revert: "undo"), TaskSpec(id: "s1", handler: "h", deps: ["s0"]),
            ]
            return send(
                .spawn(
                    run.lease,
                    tasks: tasks,
                    output: "s1",
                    from: WorkerID(UInt64.random(in: 1...3, using: &random)),
                    request: nil
                ),
                at: now
            )
        case 13:
            guard let run = open.randomElement(using: &random) else { return Decision() }
            let answer = PollAnswer(done: Bool.random(using: &random), result: RawJSON("\(step)"))
            return send(
                .complete(
                    run.lease,
                    result: .null,
                    poll: answer,
                    from: WorkerID(UInt64.random(in: 1...3, using: &random)),
                    request: nil
                ),
                at: now
            )
        case 0:
            let retry = RetryPolicy(maxAttempts: Int.random(in: 1...3, using: &random), backoff: .milliseconds(100))
            let width = Int.random(in: 1...4, using: &random)
            var tasks = (0..<width).map {
                TaskSpec(
                    id: "p\($0)",
                    handler: "h",
                    retry: retry,
                    timeout: .seconds(2),
                    revert: $0 % 2 == 0 ? "undo" : nil
                )
            }
            for i in tasks.indices {
                tasks[i].limits = [[], ["a"], ["b"], ["a", "b"]].randomElement(using: &random)!
                tasks[i].fairnessKey = ["", "t1", "t2"].randomElement(using: &random)!
            }
            tasks.append(TaskSpec(id: "join", handler: "h", deps: tasks.map(\.id), retry: retry))
            let id = Bool.random(using: &random) ? "w\(Int.random(in: 0..<20, using: &random))" : nil
            return send(
                .submit(
                    WorkflowSpec(
                        name: "r",
                        id: id.map(WorkflowID.init),
                        timeout: Bool.random(using: &random) ? .seconds(4) : nil,
                        tasks: tasks
                    ),
                    request: request()
                ),
                at: now
            )
        case 1:
            let w = UInt64.random(in: 1...3, using: &random)
            return Bool.random(using: &random)
                ? worker(
                    w,
                    concurrency: Int.random(in: 1...4, using: &random),
                    handlers: w == 3 ? ["h"] : nil,
                    at: now
                )
                : send(.disconnect(WorkerID(w)), at: now)
        case 2, 3, 4:
            guard let run = open.randomElement(using: &random) else { return Decision() }
            return complete(run, by: UInt64.random(in: 1...3, using: &random), result: "\(step)", at: now)
        case 5:
            guard let run = open.randomElement(using: &random) else { return Decision() }
            return fail(
                run,
                by: UInt64.random(in: 1...3, using: &random),
                retryable: Bool.random(using: &random),
                at: now
            )
        case 6, 7, 8:
            guard let timer = timers.randomElement(using: &random) else { return Decision() }
            return send(.fireTimer(timer), at: now)
        default:
            guard let w = coordinator.state.order.randomElement(using: &random) else { return Decision() }
            return send(
                .cancel(w, reason: "random", revert: Bool.random(using: &random), request: request()),
                at: now
            )
        }
    }
}

extension Harness {
    /// Drives `steps` random commands from `seed`, calling `afterStep` after each (the replay tests snapshot
    /// there). Returns the harness, whose journal holds every event, and the time of the last step.
    static func randomRun(
        seed: UInt64,
        steps: Int,
        afterStep: (Harness) -> Void = { _ in }
    ) -> (harness: Harness, now: Int64) {
        var random = SeededRandom(seed: seed)
        var h = Harness()
        var open: [TaskRun] = []
        var timers: [TimerID] = []
        var now: Int64 = 0
        for step in 0..<steps {
            now += Int64.random(in: 0...300, using: &random)
            let decision = h.randomCommand(step: step, open: open, timers: timers, random: &random, now: now)
            for case .runTask(_, let run) in decision.effects { open.append(run) }
            for case .armTimer(let id, _, _) in decision.effects { timers.append(id) }
            afterStep(h)
        }
        return (h, now)
    }
}
