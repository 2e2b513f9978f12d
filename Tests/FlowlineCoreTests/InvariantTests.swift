import FlowlineTestSupport
import Testing

@testable import FlowlineCore

/// Invariants over long random runs with restarts (replay + resume) and compactions: unfinished counts, leases and
/// worker slots agree, nothing happens to a workflow after it ends, reverts run newest first.
struct InvariantTests {
    @Test("invariants hold through random runs with restarts", arguments: Array(1...30) as [UInt64])
    func invariants(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        var h = Harness()
        var open: [TaskRun] = []
        var timers: [TimerID] = []
        var now: Int64 = 0
        var ended: Set<WorkflowID> = []
        for step in 0..<600 {
            now += Int64.random(in: 0...300, using: &random)
            var decision: Decision
            if Int.random(in: 0..<60, using: &random) == 0 {
                var c = Coordinator()
                for e in h.journal { c.replay(e) }
                decision = c.resume(at: Instant(milliseconds: now))
                h.journal += decision.events
                h.coordinator = c
                open = []
            } else if Int.random(in: 0..<40, using: &random) == 0 {
                decision = h.send(.compact(finishedBefore: Instant(milliseconds: now - 500), limit: 3), at: now)
            } else {
                decision = h.randomCommand(step: step, open: open, timers: timers, random: &random, now: now)
            }
            for case .runTask(_, let run) in decision.effects { open.append(run) }
            for case .armTimer(let id, _, _) in decision.effects { timers.append(id) }
            let s = h.coordinator.state
            expectCountsMatchRecount(s, "seed \(seed) step \(step)")
            var lastOrder: [WorkflowID: UInt64] = [:]
            for e in decision.events {
                if case .revertStarted(let w, let t, _) = e, let task = s.workflows[w]?.task(t) {
                    if let last = lastOrder[w] {
                        #expect(task.completionOrder < last, "seed \(seed) step \(step): revert order")
                    }
                    lastOrder[w] = task.completionOrder
                }
            }
            for e in decision.events {
                if case .workflowsCompacted(let ids, _) = e {
                    for id in ids { ended.remove(id) }
                    continue
                }
                if case .workflowSubmitted = e { continue }
                if case .futureKept = e { continue }
                if case .futureUsed = e { continue }
                if case .futureExpired = e { continue }
                if case .resolutionApplied = e { continue }
                if case .resolutionExpired = e { continue }
                #expect(!ended.contains(e.workflowID), "seed \(seed) step \(step): event after end \(e)")
            }
            for id in s.order {
                let w = s.workflows[id]!
                if w.state.isTerminal { ended.insert(id) }
                let unfinished = w.tasks.filter { !$0.state.isFinished }.count
                if w.state == .running {
                    #expect(
                        unfinished == w.unfinished,
                        "seed \(seed) step \(step): unfinished \(w.unfinished) vs \(unfinished) in \(id)"
                    )
                } else {
                    #expect(
                        unfinished == 0 && w.unfinished == 0,
                        "seed \(seed) step \(step): unfinished tasks in ended \(id)"
                    )
                }
                if w.state == .completed {
                    #expect(
                        w.tasks.allSatisfy { $0.state == .completed },
                        "seed \(seed) step \(step): completed wf with unfinished tasks"
                    )
                }
                for t in w.tasks where t.state == .completed && t.parent == nil {
                    _ = t
                }
                for (i, t) in w.tasks.enumerated() {
                    #expect(
                        t.attempts <= t.spec.retry.maxAttempts && t.attempts >= 0,
                        "seed \(seed) step \(step): attempts \(t.attempts)"
                    )
                    #expect(
                        t.revertAttempts <= t.spec.retry.maxAttempts && t.revertAttempts >= 0,
                        "seed \(seed) step \(step): revertAttempts"
                    )
                    if let p = t.parent, let parent = w.task(p), parent.state == .completed, t.state == .completed,
                        "\(p.rawValue)/s1" == t.id.rawValue
                    {
                        #expect(parent.result == t.result, "seed \(seed) step \(step): parent result")
                    }
                    if let l = t.lease {
                        #expect(s.leases[l] == TaskRef(workflow: id, index: i), "seed \(seed) step \(step): lease map")
                        #expect(
                            [.running, .waiting, .reverting].contains(t.state),
                            "seed \(seed) step \(step): lease on \(t.state)"
                        )
                        #expect(h.coordinator.session.leaseOwner[l] != nil || true)
                    }
                    if t.state == .reverting || t.state == .reverted || t.state == .revertFailed {
                        #expect(w.state != .running, "seed \(seed) step \(step): revert state in running wf")
                    }
                    if t.state == .running {
                        #expect(t.lease != nil, "seed \(seed) step \(step): running without lease \(id)/\(t.id)")
                    }
                    if t.isQueued {
                        #expect(
                            [.ready, .waiting, .reverting].contains(t.state),
                            "seed \(seed) step \(step): queued \(t.state)"
                        )
                    }
                }
                if w.state == .reverting {
                    #expect(
                        w.tasks.contains { $0.state == .reverting },
                        "seed \(seed) step \(step): reverting wf without reverting task \(id)"
                    )
                }
            }
            for (lease, ref) in s.leases {
                #expect(s.task(ref)?.lease == lease, "seed \(seed) step \(step): dangling lease")
            }
            for (lease, _) in s.leases {
                #expect(h.coordinator.session.leaseOwner[lease] != nil, "seed \(seed) step \(step): orphan lease")
            }
            for (lease, _) in h.coordinator.session.leaseOwner {
                #expect(s.leases[lease] != nil, "seed \(seed) step \(step): session holds closed lease \(lease)")
            }
        }
    }
}
