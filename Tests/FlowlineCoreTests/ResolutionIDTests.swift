import FlowlineCore
import FlowlineTestSupport
import Testing

/// SPEC §8: a resolution re-sent with the `resolution_id` of one already applied to its key changes nothing and
/// answers the first one's `matched` again, until `--future-retention` passes.
struct ResolutionIDTests {
    private func resolve(_ key: String, _ value: String, id: String?, request: UInt64) -> Command {
        .resolve(key: key, .resolved(RawJSON(value)), resolutionID: id, request: RequestID(request))
    }

    @Test func aResentResolutionThatMatchedAnswersTheSameAndKeepsNothing() {
        var h = Harness()
        _ = h.worker(1)
        let (w, d) = h.submit(.single(), at: 0)
        _ = h.send(.await(d.runs[0].lease, .key("job", timeout: nil), from: WorkerID(1), request: nil), at: 1)
        let first = h.send(resolve("job", "1", id: "r1", request: 1), at: 2)
        #expect(first.replies == [.matched(1)])
        #expect(first.events.last == .resolutionApplied(key: "job", id: "r1", matched: 1, at: Instant(milliseconds: 2)))
        let again = h.send(resolve("job", "2", id: "r1", request: 2), at: 3)
        #expect(again.replies == [.matched(1)], "the first answer, though no task waits now")
        #expect(again.events.isEmpty)
        #expect(h.coordinator.state.keptFutures.isEmpty, "without the id the re-send would be kept for a later await")
        #expect(h.task(w, "only").result == RawJSON("1"))
        // Another id is another resolution: nothing waits, so it is kept.
        #expect(h.send(resolve("job", "3", id: "r2", request: 3), at: 4).replies == [.matched(0)])
        #expect(h.coordinator.state.keptFutures["job"]?.outcome == .resolved(RawJSON("3")))
    }

    @Test func aResentKeptResolutionStaysUsedUp() {
        var h = Harness()
        _ = h.worker(1)
        #expect(h.send(resolve("k", "1", id: "r", request: 1), at: 0).replies == [.matched(0)])
        let (w, d) = h.submit(.single(), at: 1)
        _ = h.send(.await(d.runs[0].lease, .key("k", timeout: nil), from: WorkerID(1), request: nil), at: 2)
        #expect(h.task(w, "only").result == RawJSON("1"))
        let again = h.send(resolve("k", "1", id: "r", request: 2), at: 3)
        #expect(again.replies == [.matched(0)] && again.events.isEmpty)
        #expect(h.coordinator.state.keptFutures.isEmpty, "the used-up resolution is not kept a second time")
        // The same id on another key is another resolution.
        #expect(h.send(resolve("other", "1", id: "r", request: 3), at: 4).events.count == 2)
    }

    @Test func aRejectionIsDeduplicatedToo() {
        var h = Harness()
        let error = TaskError(type: "no", message: "no")
        let reject = Command.resolve(key: "k", .rejected(error), resolutionID: "x", request: RequestID(1))
        #expect(h.send(reject, at: 0).events.count == 2, "kept, and the id remembered")
        let again = h.send(reject, at: 2)
        #expect(again.replies == [.matched(0)] && again.events.isEmpty)
    }

    @Test func anIdIsForgottenAfterTheRetention() {
        var h = Harness()
        h.coordinator.futureRetention = .seconds(10)
        let first = h.send(resolve("k", "1", id: "r", request: 1), at: 0)
        #expect(first.timers[.resolutionExpiry(key: "k", id: "r")] == Instant(milliseconds: 10_000))
        #expect(h.send(.fireTimer(.resolutionExpiry(key: "k", id: "r")), at: 9_999).events.isEmpty)
        let expired = h.send(.fireTimer(.resolutionExpiry(key: "k", id: "r")), at: 10_000)
        #expect(expired.events.contains(.resolutionExpired(key: "k", id: "r", at: Instant(milliseconds: 10_000))))
        #expect(h.coordinator.state.resolutions.isEmpty && h.coordinator.state.resolutionCount == 0)
    }

    @Test func remembersIdsAcrossReplayAndCheckpointAndRearmsTheirExpiry() {
        var h = Harness()
        _ = h.send(resolve("k", "1", id: "r", request: 1), at: 5)
        for rebuilt in [replayed(h.journal), fromCheckpoint(h.coordinator.state)] {
            var c = rebuilt
            let resumed = c.resume(at: Instant(milliseconds: 6))
            #expect(
                resumed.timers[.resolutionExpiry(key: "k", id: "r")] == Instant(milliseconds: 5) + c.futureRetention
            )
            let again = c.handle(resolve("k", "2", id: "r", request: 2), at: Instant(milliseconds: 7))
            #expect(again.replies == [.matched(0)] && again.events.isEmpty)
            #expect(c.state == h.coordinator.state)
        }
    }

    @Test func theRememberedIdsAreBounded() {
        var h = Harness()
        h.coordinator.maxKeptFutures = 1
        _ = h.send(resolve("a", "1", id: "r", request: 1), at: 0)
        let refused = h.send(resolve("b", "1", id: "r2", request: 2), at: 1)
        #expect(refused.events.isEmpty)
        guard case .failure(.invalid(let error))? = refused.replies.first else {
            Issue.record("not refused: \(refused.replies)")
            return
        }
        #expect(error.path == "resolution_id")
        // A re-send of a remembered id is still answered.
        #expect(h.send(resolve("a", "1", id: "r", request: 3), at: 2).replies == [.matched(0)])
    }

    private func replayed(_ journal: [Event]) -> Coordinator {
        var c = Coordinator()
        for event in journal { c.replay(event) }
        return c
    }

    private func fromCheckpoint(_ state: CoordinatorState) -> Coordinator {
        let workflows = Array(state.workflows.values)
        return Coordinator(
            state: CoordinatorState(globals: state.globals, workflows: workflows),
            futureRetention: .seconds(7 * 86400)
        )
    }
}
