import FlowlineCore
import FlowlineProtocol
import FlowlineUV
import Logging

/// What the daemon holds back for peers over `--max-pending-output-bytes` (SPEC §7).
struct Backpressure {
    /// Peers with `Connection.deferred` output or paused input, with the last time the kernel took any of their
    /// bytes and how many libuv then held for them.
    var peers: [ConnectionID: (since: Instant, unsent: Int)] = [:]
    /// Wakes the loop to resume paused peers and to check for stalls while `peers` is not empty.
    var timer: Timer?
    var isTimerRunning = false
    /// Bytes encoded this turn for all peers (`Daemon.enqueue`), against `encodingBudgetPerTurn`.
    var encoded = 0
    /// When the last stalled peer was closed (`Daemon.stalledCloseSpacing`).
    var lastClose = Instant.zero
}

extension Daemon {
    /// The most output encoded per turn before peers' lines, the coordinator's replies and deferred messages wait
    /// for the next turn (past it, one more message per peer at most): peers draining a large backlog, pipelining
    /// large reads or waiting by the thousand on one large workflow do not stall the turn for the others.
    static let encodingBudgetPerTurn = 2 << 20

    /// The least time between two closes of stalled peers: freeing what one held (up to the bound) takes
    /// milliseconds, and peers that attack together stall together.
    static let stalledCloseSpacing: Duration = .milliseconds(20)

    /// Whether what is queued for `connection` must wait: it holds deferred output already (order is kept), or
    /// what the daemon holds for it has reached the bound.
    func mustDefer(_ connection: Connection) -> Bool {
        !connection.deferred.isEmpty || pendingBytes(of: connection) >= configuration.maxPendingOutputBytes
    }

    /// Whether a peer's next lines must wait: its output must (`mustDefer`), or this turn's encoding budget is
    /// spent. A paused peer is resumed in a later turn, once under its bound.
    private func mustPause(_ connection: Connection) -> Bool {
        mustDefer(connection) || backpressure.encoded >= Self.encodingBudgetPerTurn
    }

    /// Holds `message` back until `connection` drains; a peer that makes no progress is closed (`checkStalls`).
    func deferOutput(_ message: DeferredOutput, for connection: Connection) {
        connection.deferred.append(message)
        watch(connection)
    }

    private func watch(_ connection: Connection) {
        guard backpressure.peers[connection.id] == nil else { return }
        backpressure.peers[connection.id] = (Clock.now(), connection.socket.unsentBytes)
        startBackpressureTimer()
    }

    // MARK: - Input

    /// Frames and handles `chunk`'s lines while the peer's output is under its bound; the rest waits, unread, in
    /// `backlog`, and the socket is not read until the peer drains (`resumePaused`).
    func feed(_ chunk: ArraySlice<UInt8>, from connection: Connection) {
        var rest = chunk
        while !rest.isEmpty {
            if mustPause(connection) {
                pause(connection, keeping: rest)
                return
            }
            let wasAuthenticated = connection.isAuthenticated
            // Read before the feed: the framer may not be touched while it feeds.
            let limit = connection.framer.maxLineBytes
            let id = connection.id
            let end = connection.framer.feed(rest) { frame in
                switch frame {
                case .line(let line): handleLine(line, from: connection)
                case .tooLong: answer(RPCEncoder.error(id: nil, .lineTooLong(limit: limit)), to: id, request: nil)
                }
                return connection.isAuthenticated == wasAuthenticated && !mustPause(connection)
            }
            rest = rest[end...]
            if !wasAuthenticated && connection.isAuthenticated { authenticated(connection) }
        }
    }

    /// A good `hello`: the peer may now send lines of `--max-line-bytes`, and has no idle limit.
    private func authenticated(_ connection: Connection) {
        connection.helloTimer?.close()
        connection.helloTimer = nil
        if connection.framer.maxLineBytes != configuration.maxLineBytes {
            // The old framer stopped right after the hello line, so it holds nothing.
            connection.framer = LineFramer(maxLineBytes: configuration.maxLineBytes)
        }
    }

    private func pause(_ connection: Connection, keeping rest: ArraySlice<UInt8>) {
        connection.backlog = Array(rest)
        if !connection.isPaused {
            connection.isPaused = true
            connection.socket.stopReading()
        }
        watch(connection)
    }

    /// Handles the lines paused peers left unread, for those now under their bound, and reads them again.
    private func resumePaused() {
        for id in Array(backpressure.peers.keys) {
            guard let connection = connections[id], connection.isPaused, !mustDefer(connection) else { continue }
            connection.isPaused = false
            let backlog = connection.backlog
            connection.backlog = []
            feed(backlog[...], from: connection)
            if !connection.isPaused { connection.socket.startReading() }
        }
    }

    // MARK: - Output

    /// After the turn's commit: this turn's deferred messages are committed too; encodes each peer's deferred
    /// messages while it is under its bound, within the turn's `encodingBudgetPerTurn` (one message each at least), as ordinary output
    /// (answers still wait for durability). Called before the turn's output is written.
    func releaseDeferred() {
        guard !backpressure.peers.isEmpty else { return }
        for id in backpressure.peers.keys {
            guard let connection = connections[id], !connection.deferred.isEmpty else { continue }
            connection.committedDeferred = connection.deferred.count
            var taken = 0
            while taken < connection.deferred.count
                && (taken == 0 || backpressure.encoded < Self.encodingBudgetPerTurn)
                && pendingBytes(of: connection) < configuration.maxPendingOutputBytes
            {
                switch connection.deferred[taken] {
                case .reply(let request, let reply):
                    enqueue(to: connection, dispatch: false) { RPCEncoder.reply(id: request, reply, appendingTo: &$0) }
                case .run(let run):
                    enqueue(to: connection, dispatch: true) { RPCEncoder.taskRun(run, appendingTo: &$0) }
                case .answer(let bytes): enqueue(to: connection, dispatch: false) { $0 += bytes }
                case .dispatch(let bytes): enqueue(to: connection, dispatch: true) { $0 += bytes }
                }
                taken += 1
            }
            connection.deferred.removeFirst(taken)
            connection.committedDeferred -= taken
        }
    }

    /// A failed commit: the deferred messages of this turn go with the rest of its output.
    func dropUncommittedDeferred() {
        for id in backpressure.peers.keys {
            guard let connection = connections[id] else { continue }
            connection.deferred.removeSubrange(connection.committedDeferred...)
        }
    }

    /// After the turn's output is written: forgets peers that drained, closes those that stalled, and keeps the
    /// timer running for the rest.
    func afterOutputWritten() {
        backpressure.encoded = 0
        guard !backpressure.peers.isEmpty else { return }
        let now = Clock.now()
        var resumable = false
        for (id, watched) in backpressure.peers {
            guard let connection = connections[id], !connection.socket.isClosed else {
                backpressure.peers[id] = nil
                continue
            }
            let unsent = connection.socket.unsentBytes
            if connection.deferred.isEmpty && !connection.isPaused {
                backpressure.peers[id] = nil
                continue
            }
            if unsent < watched.unsent || unsent == 0 {
                // The kernel took some of its bytes: the peer reads.
                backpressure.peers[id] = (now, unsent)
            } else if now - watched.since >= configuration.outputStallTimeout
                && now - backpressure.lastClose >= Self.stalledCloseSpacing
            {
                backpressure.lastClose = now
                logger.warning(
                    "closing a peer that does not read",
                    metadata: [
                        "peer": "\(connection.socket.peer)", "unsent": "\(unsent)",
                        "deferred": "\(connection.deferred.count)",
                    ]
                )
                connection.socket.close()
                backpressure.peers[id] = nil
                continue
            } else {
                backpressure.peers[id] = (watched.since, unsent)
            }
            // Room again: deferred output the turn's budget left, or lines a paused peer left unread.
            let bound = configuration.maxPendingOutputBytes
            if connection.deferred.isEmpty ? !mustDefer(connection) : pendingBytes(of: connection) < bound {
                resumable = true
            }
        }
        if backpressure.peers.isEmpty {
            backpressure.timer?.stop()
            backpressure.isTimerRunning = false
        } else if resumable {
            // A 0 ms timer: the lines are handled in the next turn, whose commit covers what they cause.
            backpressure.timer?.start(afterMilliseconds: 0) { [unowned self] in self.backpressureTick() }
            backpressure.isTimerRunning = true
        } else {
            startBackpressureTimer()
        }
    }

    private func startBackpressureTimer() {
        guard !backpressure.isTimerRunning, let timer = backpressure.timer else { return }
        backpressure.isTimerRunning = true
        timer.start(afterMilliseconds: 20, repeatMilliseconds: 20) { [unowned self] in self.backpressureTick() }
    }

    private func backpressureTick() {
        backpressure.isTimerRunning = false
        backpressure.timer?.stop()
        resumePaused()
        // The turn that follows releases deferred output and checks for stalls (`afterOutputWritten`).
    }

    // MARK: - Peers that never say hello

    /// Where a token is required, closes the peer unless it has said a good `hello` within `--hello-timeout`.
    func startHelloTimer(for connection: Connection) {
        guard !connection.isAuthenticated, let timer = try? Timer(loop: loop) else { return }
        let id = connection.id
        connection.helloTimer = timer
        let milliseconds = UInt64(max(1, configuration.helloTimeout.milliseconds))
        timer.start(afterMilliseconds: milliseconds) { [unowned self] in
            guard let connection = self.connections[id] else { return }
            connection.helloTimer?.close()
            connection.helloTimer = nil
            guard !connection.isAuthenticated else { return }
            self.logger.notice("closing a peer that did not say hello", metadata: ["peer": "\(connection.socket.peer)"])
            connection.socket.close()
        }
    }
}
