import FlowlineCore
import FlowlineProtocol
import Testing

@testable import FlowlineServer

/// The outbox driven as the daemon drives it, with the journal's answers played by hand: what leaves, in which
/// order, after which commit.
@Suite struct OutboxTests {
    let a = ConnectionID(1)
    let b = ConnectionID(2)

    /// What `release` handed out, as text per write, and the timers it armed.
    struct Released: Equatable {
        var writes: [String] = []
        var timers: [TimerID] = []
    }

    func release(_ outbox: inout Outbox) -> Released {
        var released = Released()
        outbox.release(
            write: { id, bytes in released.writes.append("\(id.rawValue):" + String(decoding: bytes, as: UTF8.self)) },
            arm: { released.timers.append($0.id) }
        )
        return released
    }

    func settle(_ outbox: inout Outbox) -> Outbox.DurabilityStep { outbox.settle() }

    func fire(_ outbox: inout Outbox, turnHasEvents: Bool) -> Bool { outbox.timerFired(turnHasEvents: turnHasEvents) }

    func answer(_ outbox: inout Outbox, _ id: ConnectionID, _ text: String, request: Int64? = nil) {
        outbox.append(to: id, .answer) { $0 += Array(text.utf8) }
        outbox.noteReply(to: id, id: request.map { RPCID.int($0) })
    }

    func dispatch(_ outbox: inout Outbox, _ id: ConnectionID, _ text: String) {
        outbox.append(to: id, .dispatch) { $0 += Array(text.utf8) }
    }

    @Test func anAnswerIsHeldUntilItsCommitIsDurable() {
        var outbox = Outbox(separateDispatches: true)
        answer(&outbox, a, "done", request: 1)
        let commit = outbox.beginCommit()
        #expect(release(&outbox).writes.isEmpty)
        outbox.commitCompleted(commit, durableThrough: commit.previous)
        #expect(release(&outbox).writes.isEmpty)
        #expect(outbox.hasAnswersAwaitingDurability)
        #expect(outbox.pendingBytes(of: a) == 4)
        outbox.madeDurable(through: commit)
        #expect(release(&outbox).writes == ["1:done"])
        #expect(!outbox.hasAnswersAwaitingDurability)
        #expect(outbox.pendingBytes(of: a) == 0)
    }

    @Test func theNextCommitMakesThePreviousDurable() {
        var outbox = Outbox(separateDispatches: true)
        answer(&outbox, a, "one")
        let first = outbox.beginCommit()
        outbox.commitCompleted(first, durableThrough: first.previous)
        #expect(release(&outbox).writes.isEmpty)
        answer(&outbox, a, "two")
        let second = outbox.beginCommit()
        outbox.commitCompleted(second, durableThrough: second.previous)
        #expect(release(&outbox).writes == ["1:one"])
        outbox.madeDurable(through: second)
        #expect(release(&outbox).writes == ["1:two"])
    }

    /// A commit that completes later (a network database): output of the turns after it waits behind it, and
    /// leaves in order even when a later commit is done first.
    @Test func outputIsReleasedInOrderAcrossTwoCommits() {
        var outbox = Outbox(separateDispatches: true)
        answer(&outbox, a, "first")
        dispatch(&outbox, b, "run1")
        let first = outbox.beginCommit()
        answer(&outbox, a, "second")
        dispatch(&outbox, b, "run2")
        let second = outbox.beginCommit()
        #expect(first < second)
        outbox.commitCompleted(second, durableThrough: second)
        #expect(release(&outbox).writes.isEmpty)
        #expect(outbox.committed == .opened)
        outbox.commitCompleted(first, durableThrough: first)
        #expect(outbox.committed == second)
        #expect(outbox.durable == second)
        #expect(release(&outbox).writes == ["1:firstsecond", "2:run1run2"])
    }

    /// A turn without events reports what the last commit holds: a read's answer waits for that commit.
    @Test func aTurnWithoutEventsWaitsForTheLastCommit() {
        var outbox = Outbox(separateDispatches: true)
        answer(&outbox, a, "write")
        let commit = outbox.beginCommit()
        answer(&outbox, b, "read")
        outbox.seal()
        #expect(release(&outbox).writes.isEmpty)
        outbox.commitCompleted(commit, durableThrough: commit)
        #expect(release(&outbox).writes == ["1:write", "2:read"])
        answer(&outbox, b, "again")
        outbox.seal()
        #expect(release(&outbox).writes == ["2:again"])
    }

    @Test func aFailedCommitDropsItsOutputAndLaterTurnsAndNamesItsRequests() {
        var outbox = Outbox(separateDispatches: true)
        answer(&outbox, a, "kept", request: 1)
        let kept = outbox.beginCommit()
        outbox.commitCompleted(kept, durableThrough: kept.previous)
        answer(&outbox, a, "lost", request: 2)
        dispatch(&outbox, b, "run")
        outbox.arm(TurnTimer(id: .leaseTimeout(LeaseID(7)), due: 10, at: .zero))
        let failing = outbox.beginCommit()
        answer(&outbox, b, "later", request: 3)
        let lost = outbox.commitFailed(failing)
        #expect(lost.map(\.connection) == [a, b])
        #expect(lost.map(\.id) == [.int(2), .int(3)])
        #expect(outbox.lastCommit == kept)
        outbox.madeDurable(through: kept)
        #expect(release(&outbox) == Released(writes: ["1:kept"], timers: []))
        #expect(outbox.pendingBytes(of: a) == 0)
        #expect(outbox.pendingBytes(of: b) == 0)
        // The next commit takes the failed one's place.
        answer(&outbox, a, "next")
        let next = outbox.beginCommit()
        #expect(next == failing)
    }

    /// The meta-page rule: a `task.run` needs its commit, not its durability, so it leaves ahead of the answer to
    /// the `task.complete` of the same turn.
    @Test func aDispatchLeavesBeforeTheAnswerOfItsTurn() {
        var outbox = Outbox(separateDispatches: true)
        answer(&outbox, a, "completed")
        dispatch(&outbox, a, "run")
        let commit = outbox.beginCommit()
        outbox.commitCompleted(commit, durableThrough: commit.previous)
        #expect(release(&outbox).writes == ["1:run"])
        outbox.madeDurable(through: commit)
        #expect(release(&outbox).writes == ["1:completed"])
        #expect(Outbox.mayLeave(.dispatch, of: commit, committed: commit, durable: commit.previous))
        #expect(!Outbox.mayLeave(.answer, of: commit, committed: commit, durable: commit.previous))
    }

    /// Answers of an older commit go before the dispatches of the next; answers made durable with their own
    /// dispatches go after them.
    @Test func olderAnswersGoBeforeNewerDispatches() {
        var outbox = Outbox(separateDispatches: true)
        answer(&outbox, a, "old")
        let first = outbox.beginCommit()
        outbox.commitCompleted(first, durableThrough: first.previous)
        #expect(release(&outbox).writes.isEmpty)
        answer(&outbox, a, "new")
        dispatch(&outbox, a, "run")
        let second = outbox.beginCommit()
        outbox.commitCompleted(second, durableThrough: second)
        #expect(release(&outbox).writes == ["1:old", "1:run", "1:new"])
    }

    @Test func releaseAnswersLetsOutOnlyEarlierCommitsAnswers() {
        var outbox = Outbox(separateDispatches: true)
        answer(&outbox, a, "old")
        let first = outbox.beginCommit()
        outbox.commitCompleted(first, durableThrough: first.previous)
        answer(&outbox, a, "new")
        dispatch(&outbox, a, "run")
        let second = outbox.beginCommit()
        outbox.commitCompleted(second, durableThrough: second)
        var writes: [String] = []
        outbox.releaseAnswers(through: second.previous) { _, bytes in
            writes.append(String(decoding: bytes, as: UTF8.self))
        }
        #expect(writes == ["old"])
        #expect(release(&outbox).writes == ["1:run", "1:new"])
    }

    /// With `--sync none` dispatches are ordinary output, in order with the answers.
    @Test func withoutSeparateDispatchesEverythingIsAnAnswer() {
        var outbox = Outbox(separateDispatches: false)
        answer(&outbox, a, "answer")
        dispatch(&outbox, a, "run")
        let commit = outbox.beginCommit()
        outbox.commitCompleted(commit, durableThrough: commit.previous)
        #expect(release(&outbox).writes.isEmpty)
        outbox.madeDurable(through: commit)
        #expect(release(&outbox).writes == ["1:answerrun"])
    }

    @Test func timersAreArmedOnceTheirCommitIsDone() {
        var outbox = Outbox(separateDispatches: true)
        let timer = TurnTimer(id: .leaseTimeout(LeaseID(1)), due: 5, at: .seconds(1))
        outbox.arm(timer)
        let commit = outbox.beginCommit()
        #expect(release(&outbox).timers.isEmpty)
        outbox.commitCompleted(commit, durableThrough: commit.previous)
        #expect(release(&outbox).timers == [timer.id])
        #expect(release(&outbox).timers.isEmpty)
        // A turn without events arms its timers with the last commit: at once when it is done.
        outbox.arm(TurnTimer(id: .leaseTimeout(LeaseID(2)), due: 6, at: .seconds(1)))
        outbox.seal()
        #expect(release(&outbox).timers == [.leaseTimeout(LeaseID(2))])
    }

    @Test func aForgottenPeerGetsNothing() {
        var outbox = Outbox(separateDispatches: true)
        answer(&outbox, a, "gone")
        answer(&outbox, b, "here")
        let commit = outbox.beginCommit()
        outbox.forget(a)
        outbox.commitCompleted(commit, durableThrough: commit)
        #expect(release(&outbox).writes == ["2:here"])
    }

    // MARK: - The durability timer

    /// One row: what the turn gave, and what `settle` must answer after the commit and the release.
    struct Row: CustomTestStringConvertible, Sendable {
        var name: String
        /// Peers given answers, and peers given dispatches, this turn.
        var answered: [UInt64]
        var dispatched: [UInt64]
        var durable: Bool
        var step: Outbox.DurabilityStep
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "nothing waits", answered: [], dispatched: [1], durable: false, step: .none),
        Row(
            name: "every answered peer got a task: wait",
            answered: [1],
            dispatched: [1],
            durable: false,
            step: .startTimer
        ),
        Row(
            name: "a peer answered without a task: sync",
            answered: [1, 2],
            dispatched: [1],
            durable: false,
            step: .syncNow
        ),
        Row(name: "durable commit: nothing to do", answered: [1], dispatched: [], durable: true, step: .none),
    ]

    @Test(arguments: rows) func settle(_ row: Row) {
        var outbox = Outbox(separateDispatches: true)
        for id in row.answered { answer(&outbox, ConnectionID(id), "answer") }
        for id in row.dispatched { dispatch(&outbox, ConnectionID(id), "run") }
        let commit = outbox.beginCommit()
        outbox.commitCompleted(commit, durableThrough: row.durable ? commit : commit.previous)
        _ = release(&outbox)
        let step = outbox.settle()
        #expect(step == row.step)
    }

    @Test func theTimerIsNotPushedBackButRestartsAfterACommitMadeAnswersDurable() {
        var outbox = Outbox(separateDispatches: true)
        answer(&outbox, a, "one")
        dispatch(&outbox, a, "run")
        let first = outbox.beginCommit()
        outbox.commitCompleted(first, durableThrough: first.previous)
        _ = release(&outbox)
        #expect(settle(&outbox) == .startTimer)
        #expect(outbox.isTimerArmed)
        // A turn without events gives another peer a dispatch (a hello's answer): the running timer goes on.
        dispatch(&outbox, b, "hello")
        outbox.seal()
        #expect(release(&outbox).writes == ["2:hello"])
        #expect(settle(&outbox) == .none)
        // One that answers a read syncs at once: nothing suggests a commit is coming.
        answer(&outbox, b, "read")
        outbox.seal()
        _ = release(&outbox)
        #expect(settle(&outbox) == .syncNow)
        // The next commit makes the first durable; its own answers get a full delay.
        answer(&outbox, a, "two")
        dispatch(&outbox, a, "run")
        let second = outbox.beginCommit()
        outbox.commitCompleted(second, durableThrough: second.previous)
        #expect(release(&outbox).writes == ["1:one", "1:run", "2:read"])
        #expect(settle(&outbox) == .startTimer)
        // Made durable: nothing waits, the timer stops.
        outbox.madeDurable(through: second)
        #expect(release(&outbox).writes == ["1:two"])
        #expect(settle(&outbox) == .stopTimer)
        #expect(!outbox.isTimerArmed)
    }

    @Test func theTimerSyncsUnlessTheTurnHasEventsToCommit() {
        var outbox = Outbox(separateDispatches: true)
        answer(&outbox, a, "one")
        dispatch(&outbox, a, "run")
        let commit = outbox.beginCommit()
        outbox.commitCompleted(commit, durableThrough: commit.previous)
        _ = release(&outbox)
        #expect(settle(&outbox) == .startTimer)
        #expect(!fire(&outbox, turnHasEvents: true))
        #expect(!outbox.isTimerArmed)
        #expect(fire(&outbox, turnHasEvents: false))
        outbox.madeDurable(through: commit)
        _ = release(&outbox)
        #expect(!fire(&outbox, turnHasEvents: false))
    }
}
