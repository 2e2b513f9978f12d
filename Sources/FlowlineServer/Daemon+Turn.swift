import FlowlineCore
import FlowlineJournal
import FlowlineProtocol
import FlowlineUV
import Logging

extension Daemon {
    /// The end of a loop turn, run just before the loop blocks: commit what the turn decided, then let out what
    /// the commit allows. Each step below is one of these lines.
    func endTurn(checkpoint forced: Bool = false) {
        // Room may come back with no write asking for it (a worker waiting for tasks, the housekeeping timer).
        if journalFull { _ = journalHasRoom() }
        var state = Housekeeping.Turn(now: monotonicNow, forced: forced, journalFull: journalFull)
        compactIfDue(state)
        state.events = turn.events.count
        state.hasDirty = journal.hasUncheckpointedChanges
        let checkpoint = housekeeping.checkpointDue(state)
        if !turn.events.isEmpty || checkpoint {
            // A shutdown's commit is its last: nothing would follow to make it durable.
            guard commitTurn(checkpoint: checkpoint, durable: forced, at: state.now) else { return }
        }
        releaseDeferred()
        outbox.seal()
        releaseOutput()
        afterOutputWritten()
        turnReads.removeAll(keepingCapacity: true)
        rearmTimer()
    }

    /// Compacts the workflows finished `retention` ago, when `housekeeping` says it is time; what it purges is
    /// committed with the turn's other events.
    private func compactIfDue(_ state: Housekeeping.Turn) {
        guard housekeeping.compactionDue(state) else { return }
        let edge = Instant(milliseconds: Clock.now().milliseconds - configuration.retention.milliseconds)
        handle(.compact(finishedBefore: edge, limit: 10_000))
    }

    /// Commits the turn's events, and a checkpoint when due, as the outbox's next commit; then lets out what
    /// waited for the commit before (its answers) and would have counted against the peers' bounds. False when
    /// the commit failed: `failTurn` dealt with the turn, and nothing else of it happens.
    private func commitTurn(checkpoint checkpointDue: Bool, durable: Bool, at tick: Instant) -> Bool {
        let eventCount = turn.events.count
        observeMetrics(turn.events)
        journal.append(&turn.events)
        let commit = outbox.beginCommit()
        var outcome: Result<CommitReceipt, JournalError>?
        let commitStarted = DaemonMetrics.nanoseconds()
        journal.commit(checkpointing: checkpointDue ? coordinator.state : nil, durable: durable) { outcome = $0 }
        // A journal that completes later (issue #21) will release the outbox from its completion; LMDB's has
        // completed by now.
        guard let outcome else { preconditionFailure("the journal's commit did not complete in its turn") }
        switch outcome {
        case .failure(let error):
            failTurn(error, commit: commit)
            return false
        case .success(let receipt):
            observeCommit(since: commitStarted)
            fullSnapshot = nil
            housekeeping.committed(events: eventCount, checkpointed: receipt.checkpointed, at: tick)
        }
        // LMDB's data sync put the previous commit's meta page on disk: that commit is durable now, and this one
        // too when the journal says so (`--sync none`, a durable commit).
        outbox.commitCompleted(commit, durableThrough: journal.isDurable ? commit : commit.previous)
        outbox.releaseAnswers(through: commit.previous, write: write)
        return true
    }

    /// The commit failed: nothing of this turn may leave. Its answers become -32005, its other output is
    /// dropped, and the coordinator is rebuilt from what the journal holds; its reads are answered again from
    /// that. Requests the lost state was to answer later (`workflow.wait`) get -32005 too. When the journal is out
    /// of space, the rebuilt state is not resumed and nothing that writes reaches it until there is room
    /// (`Daemon+Full.swift`), so the next refused writes cost no rebuild.
    private func failTurn(_ error: any Error, commit: CommitToken) {
        let outOfSpace = (error as? JournalError)?.isOutOfSpace ?? false
        logger.error("journal commit failed", metadata: ["error": "\(error)", "out_of_space": "\(outOfSpace)"])
        let replies = outbox.commitFailed(commit)
        let reads = turnReads
        dropUncommittedDeferred()
        // What earlier turns committed still goes out, once durable.
        syncAndRelease()
        turn.events.removeAll()
        turnReads.removeAll()
        // The rebuilt coordinator knows none of the requests it was to answer later.
        let lost = requests.values.filter { $0.id != nil }
        requests.removeAll()
        if outOfSpace { watchingSpace = true }
        journalFull = outOfSpace
        resumeDeferred = outOfSpace
        if outOfSpace, let snapshot = fullSnapshot {
            // No commit since the rebuild: the journal holds what it did then.
            coordinator = snapshot
        } else {
            do {
                try recover(resuming: !outOfSpace)
            } catch {
                logger.critical("cannot rebuild the state from the journal", metadata: ["error": "\(error)"])
                preconditionFailure("journal unreadable after a failed commit: \(error)")
            }
            fullSnapshot = outOfSpace ? coordinator : nil
        }
        // The reads again, from the state the journal holds; they report nothing uncommitted, so they go out now.
        for (connection, id, call) in reads {
            guard let peer = connections[connection] else { continue }
            perform(call, id: id, from: peer)
        }
        outbox.seal()
        releaseOutput()
        turnReads.removeAll()
        if !outOfSpace {
            for connection in connections.values.sorted(by: { $0.id < $1.id }) {
                guard let hello = connection.hello, hello.role == .worker else { continue }
                handle(
                    .connectWorker(
                        connection.id,
                        name: hello.name,
                        queues: hello.queues,
                        concurrency: hello.concurrency,
                        handlers: hello.handlers
                    )
                )
            }
        }
        // The errors report nothing, so they go out now; what recovery decided (released leases, dispatches
        // to the re-registered workers) waits for the next turn's commit like anything else.
        for (connection, id) in replies
        where id != nil && !reads.contains(where: { $0.connection == connection && $0.id == id }) {
            connections[connection]?.socket.write(RPCEncoder.error(id: id, .unavailable))
        }
        for (connection, id) in lost { connections[connection]?.socket.write(RPCEncoder.error(id: id, .unavailable)) }
    }

    /// Writes what the outbox lets out and arms the timers whose commit is done; then syncs, or waits for the next
    /// commit, as the answers still held need (`Outbox.settle`).
    private func releaseOutput() {
        outbox.release(write: write) { timer in timers.add(timer.id, due: timer.due, at: timer.at) }
        switch outbox.settle() {
        case .none: break
        case .startTimer:
            durabilityTimer?.start(afterMilliseconds: Outbox.durabilityDelay) { [unowned self] in
                self.durabilityTimerFired()
            }
        case .stopTimer: durabilityTimer?.stop()
        case .syncNow: syncAndRelease()
        }
    }

    private func write(_ id: ConnectionID, _ bytes: [UInt8]) {
        connections[id]?.socket.write(bytes)
        // A large message to a peer that reads goes out whole; one that does not read gets nothing more encoded
        // (`mustDefer`) and is closed once it stalls (`afterOutputWritten`).
    }

    /// Makes every commit durable and lets out what waited for it.
    private func syncAndRelease() {
        makeDurable()
        outbox.madeDurable(through: outbox.committed)
        outbox.release(write: write) { timer in timers.add(timer.id, due: timer.due, at: timer.at) }
        if outbox.settle() == .stopTimer { durabilityTimer?.stop() }
    }

    /// `Outbox.durabilityDelay` passed without a commit. Events read since will be committed before the loop
    /// blocks, and that commit releases the answers; otherwise the daemon syncs now.
    private func durabilityTimerFired() {
        guard outbox.timerFired(turnHasEvents: !turn.events.isEmpty) else { return }
        syncAndRelease()
    }

    /// Syncs the journal's last commit. A sync that fails leaves commits the state already holds possibly not on
    /// disk: their answers must not leave, and carrying on would answer from a state the disk may not have, so
    /// the daemon stops; a restart replays what the journal has.
    private func makeDurable() {
        do {
            try journal.makeDurable()
        } catch {
            logger.critical("journal sync failed", metadata: ["error": "\(error)"])
            preconditionFailure("journal sync failed: \(error)")
        }
    }

    /// `wakeTimer` went off: the due timers fire after the poll phase has read what arrived meanwhile. libuv runs
    /// timers before it polls, so after a stall (SIGSTOP, a slow disk) the heartbeats waiting in the sockets would
    /// otherwise come too late for leases that are healthy.
    private func timersCameDue() {
        armedFor = nil
        timersDue?.schedule { [unowned self] in self.fireTimers() }
    }

    /// Fires every due timer, each with the deadline it was armed for, then sets the libuv timer for the next one.
    func fireTimers() {
        armedFor = nil
        loop.updateTime()
        let due = timers.popDue(at: loop.now)
        if !due.isEmpty && !journalHasRoom() {
            // What a timer decides is written to the journal: it waits for room.
            let later = loop.now + UInt64(Self.fullRetryMilliseconds)
            for timer in due { timers.add(timer.id, due: later, at: timer.at) }
        } else {
            for timer in due { handle(.fireTimer(timer.id, armedFor: timer.at)) }
        }
        rearmTimer()
    }

    /// Sets `wakeTimer` for the earliest timer, on the loop's monotonic clock; not while a firing is scheduled,
    /// which rearms when it is done.
    func rearmTimer() {
        guard let earliest = timers.earliest, let wakeTimer, timersDue?.isScheduled != true else { return }
        if let armedFor, armedFor <= earliest { return }
        loop.updateTime()
        let now = loop.now
        armedFor = earliest
        wakeTimer.start(afterMilliseconds: earliest > now ? earliest - now : 0) { [unowned self] in
            self.timersCameDue()
        }
    }
}
