import FlowlineCore
import FlowlineTestSupport
import Testing

/// The replay property: for a random run, replaying any prefix of its journal rebuilds exactly the state
/// the live coordinator had after the command that wrote that prefix.
struct ReplayTests {
    @Test("replaying any journal prefix rebuilds the live state", arguments: [1, 2, 3, 4, 5, 42, 1234] as [UInt64])
    func replayMatchesLive(seed: UInt64) {
        var snapshots: [(events: Int, state: CoordinatorState)] = [(0, Coordinator().state)]
        let (h, _) = Harness.randomRun(seed: seed, steps: 800) {
            snapshots.append(($0.journal.count, $0.coordinator.state))
        }
        #expect(h.journal.count > 100, "seed \(seed): the run should do real work")
        for (count, live) in snapshots {
            var replayed = Coordinator()
            for event in h.journal.prefix(count) { replayed.apply(event) }
            #expect(replayed.state == live, "seed \(seed): replay of \(count) events differs")
            if replayed.state != live { return }
        }
    }

    /// Recovery replays `ReplayStep`s built on another thread (a submission's workflow built ahead of the fold):
    /// that must rebuild what replaying the events one by one does, before and after `resume`.
    @Test("replaying steps equals replaying events", arguments: [1, 2, 3, 42] as [UInt64])
    func replayStepsMatchEvents(seed: UInt64) {
        let (h, now) = Harness.randomRun(seed: seed, steps: 800)
        var applied = Coordinator()
        var byEvent = Coordinator()
        var byStep = Coordinator()
        for event in h.journal {
            applied.apply(event)
            byEvent.replay(event)
            var step = ReplayStep(event)
            byStep.replay(&step)
        }
        #expect(byStep.state.workflows == applied.state.workflows, "seed \(seed)")
        let at = Instant(milliseconds: now + 1)
        let eventDecision = byEvent.resume(at: at)
        let stepDecision = byStep.resume(at: at)
        #expect(stepDecision == eventDecision, "seed \(seed)")
        #expect(byStep.state == byEvent.state, "seed \(seed)")
    }
}
