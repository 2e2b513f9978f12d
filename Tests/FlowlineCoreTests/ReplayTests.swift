import FlowlineCore
import FlowlineTestSupport
import Testing

/// The replay property: for a random run, replaying any prefix of its journal rebuilds exactly the state
/// the live coordinator had after the command that wrote that prefix.
struct ReplayTests {
    @Test("replaying any journal prefix rebuilds the live state", arguments: [1, 2, 3, 4, 5, 42, 1234] as [UInt64])
    func replayMatchesLive(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        var h = Harness()
        var open: [TaskRun] = []
        var timers: [TimerID] = []
        var snapshots: [(events: Int, state: CoordinatorState)] = [(0, h.coordinator.state)]
        var now: Int64 = 0
        for step in 0..<800 {
            now += Int64.random(in: 0...300, using: &random)
            let decision = randomCommand(step: step, open: open, timers: timers, h: &h, random: &random, now: now)
            for case .runTask(_, let run) in decision.effects { open.append(run) }
            for case .armTimer(let id, _) in decision.effects { timers.append(id) }
            snapshots.append((h.journal.count, h.coordinator.state))
        }
        #expect(h.journal.count > 100, "seed \(seed): the run should do real work")
        for (count, live) in snapshots {
            var replayed = Coordinator()
            for event in h.journal.prefix(count) { replayed.apply(event) }
            #expect(replayed.state == live, "seed \(seed): replay of \(count) events differs")
            if replayed.state != live { return }
        }
    }

    private func randomCommand(
        step: Int,
        open: [TaskRun],
        timers: [TimerID],
        h: inout Harness,
        random: inout SeededRandom,
        now: Int64
    ) -> Decision {
        switch Int.random(in: 0..<14, using: &random) {
        case 10:
            guard let run = open.randomElement(using: &random) else { return Decision() }
            let futures: [Future] = [
                .key("k\(Int.random(in: 0..<4, using: &random))", timeout: .seconds(3)), .sleep(.milliseconds(200)),
                .poll(handler: "check", input: .emptyObject, interval: .milliseconds(100), timeout: .seconds(5)),
            ]
            let future = futures.randomElement(using: &random)!
            return h.send(
                .await(run.lease, future, from: WorkerID(UInt64.random(in: 1...3, using: &random)), request: nil),
                at: now
            )
        case 11:
            let outcome: FutureOutcome =
                Bool.random(using: &random)
                ? .resolved(RawJSON("\(step)")) : .rejected(TaskError(type: "no", message: "rejected"))
            return h.send(
                .resolve(key: "k\(Int.random(in: 0..<4, using: &random))", outcome, request: h.request()),
                at: now
            )
        case 12:
            guard let run = open.randomElement(using: &random) else { return Decision() }
            let tasks = [
                TaskSpec(id: "s0", handler: "h", revert: "undo"), TaskSpec(id: "s1", handler: "h", deps: ["s0"]),
            ]
            return h.send(
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
            return h.send(
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
            tasks.append(TaskSpec(id: "join", handler: "h", deps: tasks.map(\.id), retry: retry))
            let id = Bool.random(using: &random) ? "w\(Int.random(in: 0..<20, using: &random))" : nil
            return h.send(
                .submit(
                    WorkflowSpec(
                        name: "r",
                        id: id.map(WorkflowID.init),
                        timeout: Bool.random(using: &random) ? .seconds(4) : nil,
                        tasks: tasks
                    ),
                    request: h.request()
                ),
                at: now
            )
        case 1:
            let w = UInt64.random(in: 1...3, using: &random)
            return Bool.random(using: &random)
                ? h.worker(w, concurrency: Int.random(in: 1...4, using: &random), at: now)
                : h.send(.disconnect(WorkerID(w)), at: now)
        case 2, 3, 4:
            guard let run = open.randomElement(using: &random) else { return Decision() }
            return h.complete(run, by: UInt64.random(in: 1...3, using: &random), result: "\(step)", at: now)
        case 5:
            guard let run = open.randomElement(using: &random) else { return Decision() }
            return h.fail(
                run,
                by: UInt64.random(in: 1...3, using: &random),
                retryable: Bool.random(using: &random),
                at: now
            )
        case 6, 7, 8:
            guard let timer = timers.randomElement(using: &random) else { return Decision() }
            return h.send(.fireTimer(timer), at: now)
        default:
            guard let w = h.coordinator.state.order.randomElement(using: &random) else { return Decision() }
            return h.send(
                .cancel(w, reason: "random", revert: Bool.random(using: &random), request: h.request()),
                at: now
            )
        }
    }
}
