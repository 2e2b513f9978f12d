import FlowlineCore
import FlowlineJournal
import FlowlineProtocol
import FlowlineUV
import Logging

extension Daemon {
    /// The end of a loop turn: commit the turn's events in one transaction, then write and arm what they caused.
    func endTurn(checkpoint forced: Bool = false) {
        let now = Clock.now()
        let tick = monotonicNow
        // Room may come back with no write asking for it (a worker waiting for tasks, the housekeeping timer).
        if journalFull { _ = journalHasRoom() }
        // Compaction looks at every workflow, so it runs at the checkpoint interval, not every turn. Neither it
        // nor a checkpoint is tried while the journal is full (`Daemon+Full.swift`).
        if !journalFull && (forced || tick - lastCompaction >= configuration.checkpointInterval) {
            lastCompaction = tick
            let edge = Instant(milliseconds: now.milliseconds - configuration.retention.milliseconds)
            handle(.compact(finishedBefore: edge, limit: 10_000))
        }
        let checkpointDue =
            !journalFull
            && (forced || eventsSinceCheckpoint + turn.events.count >= configuration.checkpointEvents
                || (tick - lastCheckpoint >= configuration.checkpointInterval
                    && (isAllDirty || !dirty.isEmpty || !turn.events.isEmpty)))
        if !turn.events.isEmpty || checkpointDue {
            var batch = JournalBatch()
            let eventCount = turn.events.count
            observeMetrics(turn.events)
            Self.collect(&turn.events, into: &batch, markingDirty: &dirty)
            var checkpointed = checkpointDue
            if checkpointDue { addCheckpoint(to: &batch) }
            // A shutdown's commit is its last: nothing would follow to make it durable.
            let commitStarted = DaemonMetrics.nanoseconds()
            do {
                try journal.commit(batch, durable: forced)
            } catch  where error.isOutOfSpace && checkpointDue {
                // A checkpoint is large; the turn's events alone may still fit. Commit them without it, and
                // try the checkpoint again at a later turn.
                batch.snapshots = []
                batch.checkpoint = nil
                checkpointed = false
                do {
                    try journal.commit(batch, durable: forced)
                } catch {
                    failTurn(error)
                    return
                }
            } catch {
                failTurn(error)
                return
            }
            observeCommit(since: commitStarted)
            fullSnapshot = nil
            eventsSinceCheckpoint += eventCount
            if checkpointed {
                dirty.removeAll(keepingCapacity: true)
                isAllDirty = false
                eventsSinceCheckpoint = 0
                lastCheckpoint = tick
            }
            // This commit's data sync put the previous commit's meta page on disk.
            releaseHeld(upTo: .held)
        }
        for timer in turnTimers { timers.add(timer.id, due: timer.due, at: timer.at) }
        releaseDeferred()
        writeOutput()
        afterOutputWritten()
        turn.events.removeAll(keepingCapacity: true)
        turnTimers.removeAll(keepingCapacity: true)
        turnReplies.removeAll(keepingCapacity: true)
        turnReads.removeAll(keepingCapacity: true)
        rearmTimer()
    }

    /// Encodes `events` into `batch`, with the workflows compaction purges, and adds the workflows they change to
    /// `dirty`; leaves `events` empty, its storage kept. Each event is moved out of the list to be encoded, a
    /// payload-free one left in its place: a pass over the list copied every event (a retain per field), and
    /// emptying it destroyed them once more.
    private static func collect(
        _ events: inout [Event],
        into batch: inout JournalBatch,
        markingDirty dirty: inout Set<WorkflowID>
    ) {
        batch.records.reserveCapacity(events.count)
        // A workflow's events mostly come in runs (submitted then dispatched, completed then the workflow
        // completed), so checking the last one spares most of the hashing.
        var lastDirty = WorkflowID("")
        for i in events.indices {
            var event = Event.workflowCompleted(WorkflowID(""), at: .zero)
            swap(&event, &events[i])
            let id = event.workflowID
            batch.records.append((workflowID: id.rawValue, bytes: EventCodec.encode(event)))
            if case .workflowsCompacted(let ids, _) = event {
                batch.purge += ids.map(\.rawValue)
                dirty.formUnion(ids)
            } else if !id.rawValue.isEmpty && id != lastDirty {
                dirty.insert(id)
                lastDirty = id
            }
        }
        // What is left is placeholders; element by element, as removeAll(keepingCapacity:) goes through the generic
        // replaceSubrange.
        while !events.isEmpty { events.removeLast() }
    }

    /// Snapshots of every workflow changed since the last checkpoint, and the globals as of this batch's last record.
    private func addCheckpoint(to batch: inout JournalBatch) {
        var ids: [WorkflowID]
        if isAllDirty {
            // Every workflow held now, and those changed since that are gone (compacted).
            ids = Array(coordinator.state.workflows.keys)
            for id in dirty where coordinator.state.workflows.index(forKey: id) == nil { ids.append(id) }
            ids.sort()
        } else {
            ids = dirty.sorted()
        }
        let snapshots = SnapshotCodec.encode(ids, of: coordinator.state.workflows)
        batch.snapshots.reserveCapacity(batch.snapshots.count + ids.count)
        for (id, bytes) in zip(ids, snapshots) { batch.snapshots.append((id.rawValue, bytes)) }
        batch.checkpoint = SnapshotCodec.encode(
            coordinator.state.globals,
            seq: journal.lastSeq + UInt64(batch.records.count)
        )
    }

    /// The commit failed: nothing of this turn may leave. Its answers become -32005, its other output is
    /// dropped, and the coordinator is rebuilt from what the journal holds; its reads are answered again from
    /// that. Requests the lost state was to answer later (`workflow.wait`) get -32005 too. When the journal is out
    /// of space, the rebuilt state is not resumed and nothing that writes reaches it until there is room
    /// (`Daemon+Full.swift`), so the next refused writes cost no rebuild.
    private func failTurn(_ error: any Error) {
        let outOfSpace = (error as? JournalError)?.isOutOfSpace ?? false
        logger.error("journal commit failed", metadata: ["error": "\(error)", "out_of_space": "\(outOfSpace)"])
        let replies = turnReplies
        let reads = turnReads
        for id in turnOutput {
            guard let connection = connections[id] else { continue }
            connection.output.removeSubrange(connection.heldBytes...)
        }
        for id in turnDispatches { connections[id]?.dispatches.removeAll() }
        dropUncommittedDeferred()
        turnOutput.removeAll()
        turnDispatches.removeAll()
        // What earlier turns committed still goes out, once durable.
        makeDurable()
        releaseHeld(upTo: .everything)
        turn.events.removeAll()
        turnTimers.removeAll()
        turnReplies.removeAll()
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
        for id in turnOutput { write(upTo: .everything, of: id) }
        turnOutput.removeAll()
        turnReplies.removeAll()
        turnReads.removeAll()
        if !outOfSpace {
            for connection in connections.values.sorted(by: { $0.id < $1.id }) {
                guard let hello = connection.hello, hello.role == .worker else { continue }
                handle(
                    .connectWorker(
                        connection.id,
                        name: hello.name,
                        queues: hello.queues,
                        concurrency: hello.concurrency
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

    /// Writes what the turn's commit allows. Dispatches go at once. With `--sync full` the commit has synced its
    /// data pages, but the meta page that makes it the newest is only written (`MDB_NOMETASYNC`): it reaches the
    /// disk with the next commit's data sync, or with `makeDurable`. Answers wait for that. When every peer given
    /// answers this turn was also given a task, its completion will most likely bring the next commit soon (a
    /// chain's next step), so the answers wait for it, or for `durabilityDelay` at most; otherwise the daemon
    /// syncs now. A chain of steps thus costs one sync per step instead of two, and no answer leaves before what
    /// it reports is on disk.
    private func writeOutput() {
        let waitForNextCommit = turnOutput.allSatisfy { connections[$0].map { !$0.dispatches.isEmpty } ?? true }
        for id in turnDispatches {
            guard let connection = connections[id], !connection.dispatches.isEmpty else { continue }
            let bytes = connection.dispatches
            connection.dispatches.removeAll(keepingCapacity: true)
            connection.socket.write(bytes)
        }
        if journal.isDurable {
            releaseHeld(upTo: .everything)
            for id in turnOutput { write(upTo: .everything, of: id) }
        } else if !turnOutput.isEmpty {
            // Answers already held mean the timer is running: it is not pushed back.
            let timerRunning = !held.isEmpty
            for id in turnOutput {
                guard let connection = connections[id] else { continue }
                if connection.heldBytes == 0 { held.append(id) }
                connection.heldBytes = connection.output.count
            }
            if waitForNextCommit {
                if !timerRunning {
                    durabilityTimer?.start(afterMilliseconds: Self.durabilityDelay) { [unowned self] in
                        self.syncHeld()
                    }
                }
            } else {
                makeDurable()
                releaseHeld(upTo: .everything)
            }
        }
        turnOutput.removeAll(keepingCapacity: true)
        turnDispatches.removeAll(keepingCapacity: true)
    }

    /// How long answers may wait for the next commit to make theirs durable, in loop milliseconds (1–2 ms).
    static let durabilityDelay: UInt64 = 1

    enum Release { case held, everything }

    /// Writes each held peer's held bytes, or all its output. Bytes of this turn that stay behind are in
    /// `turnOutput`: a peer's first bytes of a turn put it there.
    private func releaseHeld(upTo extent: Release) {
        guard !held.isEmpty else { return }
        for id in held { write(upTo: extent, of: id) }
        held.removeAll(keepingCapacity: true)
        durabilityTimer?.stop()
    }

    private func write(upTo extent: Release, of id: WorkerID) {
        guard let connection = connections[id] else { return }
        let count = extent == .held ? connection.heldBytes : connection.output.count
        connection.heldBytes = 0
        guard count > 0 else { return }
        if count == connection.output.count {
            let bytes = connection.output
            connection.output.removeAll(keepingCapacity: true)
            connection.socket.write(bytes)
        } else {
            connection.socket.write(Array(connection.output[..<count]))
            connection.output.removeSubrange(..<count)
        }
        // A large message to a peer that reads goes out whole; one that does not read gets nothing more encoded
        // (`mustDefer`) and is closed once it stalls (`afterOutputWritten`).
    }

    /// `durabilityDelay` passed without a commit. Events read since will be committed before the loop blocks,
    /// and that commit releases the answers; otherwise the daemon syncs now.
    private func syncHeld() {
        guard !held.isEmpty, turn.events.isEmpty else { return }
        makeDurable()
        releaseHeld(upTo: .everything)
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
