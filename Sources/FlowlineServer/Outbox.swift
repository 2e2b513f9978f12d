import FlowlineCore
import FlowlineProtocol

/// A commit of the journal, in the order the daemon asked for them: output is released in this order.
struct CommitToken: Hashable, Comparable, Sendable, CustomStringConvertible {
    var rawValue: UInt64
    /// What the journal held when the daemon opened it: committed and durable.
    static let opened = CommitToken(rawValue: 0)
    static func < (a: CommitToken, b: CommitToken) -> Bool { a.rawValue < b.rawValue }
    var next: CommitToken { CommitToken(rawValue: rawValue + 1) }
    var previous: CommitToken { CommitToken(rawValue: max(rawValue, 1) - 1) }
    var description: String { "commit \(rawValue)" }
}

/// A timer the turn's effects armed: due on the loop's monotonic clock, with the wall-clock deadline it was armed
/// for, which its firing hands back to the coordinator.
struct TurnTimer: Equatable {
    var id: TimerID
    var due: UInt64
    var at: Instant
}

/// What a turn produces, held until the journal allows it out: answers, dispatches, and timers to arm.
///
/// A turn's output is appended to the open turn as the coordinator decides it. The turn then either hands its
/// events to the journal (`beginCommit`, which names the commit with a token) or has none (`seal`: its output joins
/// the last commit, whose state it reports). Output leaves per peer, in order, once the commit it belongs to allows
/// (`release`):
/// - answers (`Lane.answer`) once their commit is durable: an answer may report it, and a client that saw it may
///   act on it;
/// - dispatches (`Lane.dispatch`: `task.run`, `task.cancel`, `hello`'s answer) once their commit is done, durable or
///   not (`mayLeave`, the meta-page rule);
/// - timers once their commit is done.
/// The commit may complete later than the turn that asked for it (a network database): output of later turns waits
/// behind it, and a commit that fails takes its output, and that of every later turn, with it (`commitFailed`).
///
/// A plain value: the daemon tells it what the journal did, and it says what may leave (`release`) and what the
/// durability timer must do (`settle`).
struct Outbox {
    /// Which of a peer's two streams a message goes to.
    enum Lane { case answer, dispatch }

    /// The meta-page rule. With `--sync full` a commit syncs its data pages, but the meta page that names it the
    /// newest is only written: it reaches the disk with the next commit's data sync, or with an explicit sync. A
    /// dispatch reports nothing to its reader; it only needs the commit, so the next `task.run` may leave before
    /// the answer to the `task.complete` that freed its slot. Should a power loss undo that commit, the task runs
    /// again, as it would after its lease expired (execution is at-least-once). Answers wait for durability. A
    /// chain of steps thus costs one sync per step instead of two.
    static func mayLeave(_ lane: Lane, of commit: CommitToken, committed: CommitToken, durable: CommitToken) -> Bool {
        switch lane {
        case .dispatch: commit <= committed
        case .answer: commit <= durable
        }
    }

    /// What one peer has waiting, per lane: the bytes, and where each commit's part of them ends.
    struct Mailbox {
        var answers = LaneBuffer()
        var dispatches = LaneBuffer()
        /// Whether the peer is in `Outbox.open` (it has bytes of the open turn) or `Outbox.waiting`.
        var isOpen = false
        var isWaiting = false

        var pendingBytes: Int { answers.bytes.count + dispatches.bytes.count }
    }

    /// One lane of a peer: encoded bytes in order. `marks[i].end` is where the bytes of commit `marks[i].commit`
    /// end; bytes past the last mark are the open turn's.
    struct LaneBuffer {
        var bytes: [UInt8] = []
        var marks: [(commit: CommitToken, end: Int)] = []
        var sealedEnd: Int { marks.last?.end ?? 0 }
        var hasOpenBytes: Bool { bytes.count > sealedEnd }

        /// Gives the open bytes to `commit`.
        mutating func seal(_ commit: CommitToken) {
            guard hasOpenBytes else { return }
            if let last = marks.last, last.commit == commit {
                marks[marks.count - 1].end = bytes.count
            } else {
                marks.append((commit, bytes.count))
            }
        }

        /// How many bytes from the start belong to commits up to `limit`.
        func end(through limit: CommitToken) -> Int {
            var end = 0
            for mark in marks {
                guard mark.commit <= limit else { break }
                end = mark.end
            }
            return end
        }

        /// Removes and returns the first `count` bytes.
        mutating func take(_ count: Int) -> [UInt8] {
            if count == bytes.count {
                let all = bytes
                bytes.removeAll(keepingCapacity: true)
                marks.removeAll(keepingCapacity: true)
                return all
            }
            let head = Array(bytes[..<count])
            bytes.removeSubrange(..<count)
            var kept = 0
            for i in marks.indices where marks[i].end > count {
                marks[kept] = (marks[i].commit, marks[i].end - count)
                kept += 1
            }
            marks.removeLast(marks.count - kept)
            return head
        }

        /// Drops what belongs to commits from `commit` on, and the open bytes.
        mutating func drop(from commit: CommitToken) {
            while let last = marks.last, last.commit >= commit { marks.removeLast() }
            bytes.removeSubrange(sealedEnd...)
        }
    }

    /// A commit asked for and not done yet, with what it carries: the requests its answers reply to (errors,
    /// should it fail), and its timers.
    struct Pending {
        var commit: CommitToken
        var replies: [(connection: ConnectionID, id: RPCID?)]
        var timers: [TurnTimer]
        var isDone = false
    }

    /// Whether dispatches have their own lane: with `--sync none` nothing waits for a sync, and dispatches are
    /// ordinary output, in order with the answers.
    let separateDispatches: Bool

    private(set) var mailboxes: [ConnectionID: Mailbox] = [:]
    /// Peers with bytes of the open turn, in the order they got them.
    private(set) var open: [ConnectionID] = []
    /// Peers with bytes of commits not released yet.
    private(set) var waiting: [ConnectionID] = []

    /// The open turn's requests answered (or to be answered from `Connection.deferred`), and timers.
    private(set) var replies: [(connection: ConnectionID, id: RPCID?)] = []
    private(set) var timers: [TurnTimer] = []
    /// Timers whose commit is done, for `release` to arm.
    private var armable: [TurnTimer] = []

    private(set) var lastCommit = CommitToken.opened
    /// Commits asked for, oldest first, until done (`commitCompleted`).
    private(set) var pending: [Pending] = []
    /// Every commit up to this one is done; every commit up to `durable` is durable.
    private(set) var committed = CommitToken.opened
    private(set) var durable = CommitToken.opened
    /// The furthest commit the journal said is durable, done or not yet.
    private var reportedDurable = CommitToken.opened

    /// Whether every peer given answers this turn was also given a dispatch (`answersAwaitNextCommit`); the turn
    /// ends at `settle`.
    private var turnDispatchedToEveryAnswered = true
    /// Whether the daemon's durability timer is running, for answers that wait for the next commit.
    private(set) var isTimerArmed = false
    /// Whether answers were made durable since the timer was started: those it waited for are gone, and answers
    /// waiting now get a full `durabilityDelay`.
    private var durableSinceTimer = false

    init(separateDispatches: Bool) {
        self.separateDispatches = separateDispatches
    }

    // MARK: - The open turn

    /// Appends what `encode` writes to `connection`'s `lane` in the open turn; returns how many bytes it wrote.
    @discardableResult
    mutating func append(to connection: ConnectionID, _ lane: Lane, _ encode: (inout [UInt8]) -> Void) -> Int {
        let lane = separateDispatches ? lane : .answer
        // Through the index, in place: a mailbox copied out would share its bytes and copy them on append.
        let i = index(of: connection)
        if !mailboxes.values[i].isOpen {
            mailboxes.values[i].isOpen = true
            open.append(connection)
        }
        switch lane {
        case .answer:
            let before = mailboxes.values[i].answers.bytes.count
            encode(&mailboxes.values[i].answers.bytes)
            return mailboxes.values[i].answers.bytes.count - before
        case .dispatch:
            let before = mailboxes.values[i].dispatches.bytes.count
            encode(&mailboxes.values[i].dispatches.bytes)
            return mailboxes.values[i].dispatches.bytes.count - before
        }
    }

    private mutating func index(of connection: ConnectionID) -> Dictionary<ConnectionID, Mailbox>.Index {
        if let i = mailboxes.index(forKey: connection) { return i }
        mailboxes[connection] = Mailbox()
        return mailboxes.index(forKey: connection)!
    }

    /// Notes that the open turn answers request `id` of `connection`: should its commit fail, the answer is
    /// dropped and the request gets -32005 instead.
    mutating func noteReply(to connection: ConnectionID, id: RPCID?) {
        replies.append((connection, id))
    }

    /// A timer for when the open turn's commit is done.
    mutating func arm(_ timer: TurnTimer) {
        timers.append(timer)
    }

    /// Bytes held for `connection`, in both lanes.
    func pendingBytes(of connection: ConnectionID) -> Int {
        mailboxes[connection]?.pendingBytes ?? 0
    }

    /// The peer is gone: what it had waiting is dropped.
    mutating func forget(_ connection: ConnectionID) {
        mailboxes[connection] = nil
    }

    // MARK: - Commits

    /// The open turn's events go to the journal as the next commit: its output waits for that commit.
    mutating func beginCommit() -> CommitToken {
        lastCommit = lastCommit.next
        pending.append(Pending(commit: lastCommit, replies: replies, timers: timers))
        replies.removeAll(keepingCapacity: true)
        timers.removeAll(keepingCapacity: true)
        closeTurn(into: lastCommit)
        return lastCommit
    }

    /// The open turn has no events: its output reports what the last commit holds, and waits for it.
    mutating func seal() {
        if let last = pending.indices.last {
            pending[last].timers += timers
        } else {
            armable += timers
        }
        replies.removeAll(keepingCapacity: true)
        timers.removeAll(keepingCapacity: true)
        closeTurn(into: lastCommit)
    }

    private mutating func closeTurn(into commit: CommitToken) {
        guard !open.isEmpty else { return }
        for id in open {
            guard let i = mailboxes.index(forKey: id) else { continue }
            if mailboxes.values[i].answers.hasOpenBytes && !mailboxes.values[i].dispatches.hasOpenBytes {
                turnDispatchedToEveryAnswered = false
            }
            mailboxes.values[i].answers.seal(commit)
            mailboxes.values[i].dispatches.seal(commit)
            mailboxes.values[i].isOpen = false
            if !mailboxes.values[i].isWaiting {
                mailboxes.values[i].isWaiting = true
                waiting.append(id)
            }
        }
        open.removeAll(keepingCapacity: true)
    }

    /// Commit `commit` is done, and every commit up to `durableThrough` is durable. Commits are done in the order
    /// asked for: one done early waits for those before it.
    mutating func commitCompleted(_ commit: CommitToken, durableThrough: CommitToken) {
        if let i = pending.firstIndex(where: { $0.commit == commit }) { pending[i].isDone = true }
        while let first = pending.first, first.isDone {
            committed = first.commit
            armable += first.timers
            pending.removeFirst()
        }
        madeDurable(through: durableThrough)
    }

    /// Every commit up to `commit` is durable (a sync, or a later commit that synced it). A commit counts as
    /// durable once it is done too: one done early waits for those before it.
    mutating func madeDurable(through commit: CommitToken) {
        reportedDurable = max(reportedDurable, commit)
        let through = min(reportedDurable, committed)
        guard through > durable else { return }
        durable = through
        durableSinceTimer = true
    }

    /// Commit `commit` failed: its output and that of every later turn (which was decided on its state) are
    /// dropped, with their timers. Returns the requests they answered, for -32005.
    mutating func commitFailed(_ commit: CommitToken) -> [(connection: ConnectionID, id: RPCID?)] {
        var lost: [(connection: ConnectionID, id: RPCID?)] = []
        for entry in pending where entry.commit >= commit { lost += entry.replies }
        lost += replies
        pending.removeAll { $0.commit >= commit }
        replies.removeAll(keepingCapacity: true)
        timers.removeAll(keepingCapacity: true)
        lastCommit = commit.previous
        reportedDurable = min(reportedDurable, lastCommit)
        for id in open + waiting {
            guard let i = mailboxes.index(forKey: id) else { continue }
            mailboxes.values[i].answers.drop(from: commit)
            mailboxes.values[i].dispatches.drop(from: commit)
            mailboxes.values[i].isOpen = false
        }
        open.removeAll(keepingCapacity: true)
        turnDispatchedToEveryAnswered = true
        return lost
    }

    // MARK: - Release

    /// Hands `write` what may leave now, peer by peer, in order: per peer, answers of older commits, then
    /// dispatches, then answers of the commit the dispatches came with; and `arm` the timers whose commit is done.
    mutating func release(write: (ConnectionID, [UInt8]) -> Void, arm: (TurnTimer) -> Void) {
        if !armable.isEmpty {
            for timer in armable { arm(timer) }
            armable.removeAll(keepingCapacity: true)
        }
        release(answersThrough: durable, dispatchesThrough: committed, write: write)
    }

    /// Hands `write` only the answers of commits up to `commit` that may leave: those that waited for the commits
    /// before the one just done, which the daemon lets out before it encodes more output against the peers' bounds.
    mutating func releaseAnswers(through commit: CommitToken, write: (ConnectionID, [UInt8]) -> Void) {
        release(answersThrough: min(commit, durable), dispatchesThrough: nil, write: write)
    }

    private mutating func release(
        answersThrough: CommitToken,
        dispatchesThrough: CommitToken?,
        write: (ConnectionID, [UInt8]) -> Void
    ) {
        guard !waiting.isEmpty else { return }
        var kept = 0
        for k in waiting.indices {
            let id = waiting[k]
            guard let i = mailboxes.index(forKey: id) else { continue }
            let dispatchEnd = dispatchesThrough.map { mailboxes.values[i].dispatches.end(through: $0) } ?? 0
            let answerEnd = mailboxes.values[i].answers.end(through: answersThrough)
            // Answers of commits before the first dispatch released go first.
            var olderEnd = answerEnd
            if dispatchEnd > 0, let first = mailboxes.values[i].dispatches.marks.first?.commit {
                olderEnd = min(answerEnd, mailboxes.values[i].answers.end(through: first.previous))
            }
            if olderEnd > 0 { write(id, mailboxes.values[i].answers.take(olderEnd)) }
            if dispatchEnd > 0 { write(id, mailboxes.values[i].dispatches.take(dispatchEnd)) }
            if answerEnd > olderEnd { write(id, mailboxes.values[i].answers.take(answerEnd - olderEnd)) }
            let isWaiting = !mailboxes.values[i].answers.marks.isEmpty || !mailboxes.values[i].dispatches.marks.isEmpty
            mailboxes.values[i].isWaiting = isWaiting
            if isWaiting {
                waiting[kept] = id
                kept += 1
            }
        }
        waiting.removeLast(waiting.count - kept)
    }

    // MARK: - Durability

    /// Whether answers of done commits wait for durability.
    var hasAnswersAwaitingDurability: Bool {
        guard committed > durable else { return false }
        for id in waiting {
            if let first = mailboxes[id]?.answers.marks.first, first.commit <= committed { return true }
        }
        return false
    }

    /// When every peer given answers in the last turn was also given a task, its completion will most likely
    /// bring the next commit soon (a chain's next step), which makes these answers durable: they wait for it, or
    /// for `durabilityDelay` at most. Otherwise waiting would only delay them.
    var answersAwaitNextCommit: Bool { turnDispatchedToEveryAnswered }

    /// What the daemon's durability timer, or a sync, must do now.
    enum DurabilityStep: Equatable {
        case none
        /// (Re)start the timer: answers wait for the next commit, `durabilityDelay` at most.
        case startTimer
        /// Nothing waits any more.
        case stopTimer
        /// Sync the journal now (then `madeDurable` and `release`).
        case syncNow
    }

    /// After a turn's release, at its end: what durability its waiting answers need.
    mutating func settle() -> DurabilityStep {
        defer {
            turnDispatchedToEveryAnswered = true
            durableSinceTimer = false
        }
        guard hasAnswersAwaitingDurability else {
            guard isTimerArmed else { return .none }
            isTimerArmed = false
            return .stopTimer
        }
        guard answersAwaitNextCommit else { return .syncNow }
        // Answers already waiting mean the timer is running: it is not pushed back.
        guard !isTimerArmed || durableSinceTimer else { return .none }
        isTimerArmed = true
        return .startTimer
    }

    /// The durability timer went off with no commit since: sync now, unless the turn has events whose commit,
    /// before the loop blocks, will make the answers durable.
    mutating func timerFired(turnHasEvents: Bool) -> Bool {
        isTimerArmed = false
        return hasAnswersAwaitingDurability && !turnHasEvents
    }

    /// How long answers may wait for the next commit to make theirs durable, in loop milliseconds (1–2 ms).
    static let durabilityDelay: UInt64 = 1
}
