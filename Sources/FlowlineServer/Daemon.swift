import FlowlineCore
import FlowlineJournal
import FlowlineProtocol
import FlowlineUV
import Glibc
public import Logging

/// The daemon's shell: one libuv loop owns the coordinator, the journal and every connection.
///
/// Each loop turn decodes what arrived, feeds it to the coordinator, and collects the resulting events, and the
/// output in the `outbox`. The turn hook (run just before the loop blocks) commits the turn's events in one LMDB
/// transaction and only then lets out the output and arms the timers (`endTurn`): nothing leaves before what it
/// reports is committed, and no answer before it is on disk (`Outbox.mayLeave`).
public final class Daemon {
    let configuration: DaemonConfiguration
    let logger: Logger
    let loop: EventLoop
    let journal: any Journal
    var coordinator: Coordinator
    var listener: TCPListener?
    var connections: [ConnectionID: Connection] = [:]
    var nextConnection: UInt64 = 1
    /// Requests the coordinator will answer later, with where the answer goes.
    var requests: [RequestID: (connection: ConnectionID, id: RPCID?)] = [:]
    var nextRequest: UInt64 = 1
    var timers = TimerQueue()
    var wakeTimer: Timer?
    /// When `wakeTimer` is set to go off, on the loop's monotonic clock.
    var armedFor: UInt64?
    /// Fires the due timers once the poll phase after `wakeTimer` went off has read the sockets: after a stall, the
    /// heartbeats and completions that arrived count before a timer gives up on their leases.
    var timersDue: AfterPoll?
    var turnHook: TurnHook?
    /// Turns the loop at the checkpoint interval, so that an idle daemon still compacts and checkpoints.
    var housekeepingTimer: Timer?
    /// When to compact and to checkpoint.
    var housekeeping: Housekeeping
    var signalWatchers: [SignalWatcher] = []
    let startedAt: Instant
    /// Parses every connection's lines, one whole line at a time on the loop thread, so one parser's storage serves
    /// them all.
    var lineParser = JSONLineParser(capturesPayloads: true)
    /// Output held back for peers over `--max-pending-output-bytes`, and their paused input.
    var backpressure = Backpressure()
    /// `--http`: the listener, its peers, and what `/metrics` counts (`Daemon+HTTP.swift`, `DaemonMetrics.swift`).
    var http = HTTPSide()
    var metrics = DaemonMetrics()

    // MARK: - This turn's work, committed or dropped together

    /// The turn's events, which the coordinator appends to in place, and the effects of the command being handled
    /// (emptied once performed, its storage kept for the next).
    var turn = Decision()
    /// The turn's output and timers, and earlier turns' answers that wait for their commit to become durable.
    var outbox: Outbox
    /// Syncs the journal for answers that waited `Outbox.durabilityDelay` for a commit that did not come
    /// (`Outbox.settle`).
    var durabilityTimer: Timer?

    /// Reads handled this turn: answered again, from the state the journal holds, should the turn's commit fail.
    var turnReads: [(connection: ConnectionID, id: RPCID, call: Call)] = []

    // MARK: - A full journal

    /// Whether the journal refused a commit for lack of space and has not taken one since. Meanwhile the state is
    /// what the journal holds, and nothing that would change it reaches the coordinator (`Daemon+Full.swift`).
    var journalFull = false
    /// Whether the rebuild after the failed commit left `Coordinator.resume` (and workers' registration) for when
    /// the journal has room: its events could not be committed.
    var resumeDeferred = false
    /// Whether a commit ever failed for lack of space: from then on each write request first asks the journal
    /// whether it has room for it.
    var watchingSpace = false
    /// The state the rebuild left while `journalFull`, exactly what the journal holds: a commit that fails before
    /// any other succeeded goes back to it instead of rebuilding again.
    var fullSnapshot: Coordinator?

    // MARK: - Checkpoints

    var eventsSinceCheckpoint: Int {
        get { housekeeping.eventsSinceCheckpoint }
        set { housekeeping.eventsSinceCheckpoint = newValue }
    }

    /// Opens the journal and rebuilds the state from it.
    public init(configuration: DaemonConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        self.loop = try EventLoop()
        self.journal = try LMDBJournal(configuration: configuration.journal)
        self.startedAt = Clock.now()
        self.housekeeping = Housekeeping(
            checkpointEvents: configuration.checkpointEvents,
            interval: configuration.checkpointInterval,
            now: Instant(milliseconds: Int64(loop.now))
        )
        self.outbox = Outbox(separateDispatches: configuration.sync == .full)
        self.coordinator = Coordinator(futureRetention: configuration.futureRetention)
        coordinator.maxKeptFutures = configuration.maxKeptFutures
        try recover()
    }

    /// Rebuilds the coordinator's state from the journal and resumes: open leases are given back, timers re-armed.
    /// Without `resuming`, the state is left as the journal has it, for `resume` later.
    func recover(resuming: Bool = true) throws {
        let recovery = try journal.recover(into: &coordinator)
        // The replayed events count toward the next checkpoint, as they did in the daemon that wrote them.
        housekeeping.eventsSinceCheckpoint = recovery.changes.eventsSinceCheckpoint
        if resuming {
            let now = Clock.now()
            loadScheduleZones()
            let resumed = coordinator.resume(at: now)
            apply(resumed, at: now)
        }
        let checkpoint = recovery.usedCheckpoint ? recovery.checkpoint : nil
        logger.info(
            "recovered",
            metadata: [
                "snapshots": "\(checkpoint?.snapshots ?? 0)", "events": "\(recovery.events)",
                "from_seq": "\((checkpoint?.seq ?? 0) + 1)", "workflows": "\(coordinator.state.workflows.count)",
            ]
        )
    }

    /// Binds, reports the address, and runs the loop until SIGINT or SIGTERM.
    public func run(onListening: (String, Int) -> Void) throws {
        // Each connection is a descriptor; a soft limit of 1024 would cap the daemon near a thousand peers.
        let files = FileLimit.raiseToHardLimit()
        logger.info("open file limit", metadata: ["nofile": "\(files.map(String.init) ?? "unknown")"])
        let listener = try TCPListener(loop: loop, host: configuration.host, port: configuration.port) {
            [unowned self] socket in
            self.accept(socket)
        }
        self.listener = listener
        wakeTimer = try Timer(loop: loop)
        timersDue = try AfterPoll(loop: loop)
        turnHook = try TurnHook(loop: loop) { [unowned self] in self.endTurn() }
        durabilityTimer = try Timer(loop: loop)
        backpressure.timer = try Timer(loop: loop)
        let interval = UInt64(max(100, configuration.checkpointInterval.milliseconds))
        housekeepingTimer = try Timer(loop: loop)
        housekeepingTimer?.start(afterMilliseconds: interval, repeatMilliseconds: interval) {}
        for signal in [SIGINT, SIGTERM] {
            signalWatchers.append(try SignalWatcher(loop: loop, signal: signal) { [unowned self] in self.shutdown() })
        }
        endTurn()
        // The numeric address bound, as SPEC §8 asks: `--listen localhost:0` says which of its addresses it took.
        logger.info("listening", metadata: ["listen": "\(listener.host):\(listener.port)"])
        onListening(listener.host, listener.port)
        try startHTTP()
        loop.run()
    }

    /// Stops accepting, commits what is pending, closes everything; `run` then returns.
    func shutdown() {
        logger.info("shutting down")
        listener?.close()
        listener = nil
        stopHTTP()
        endTurn(checkpoint: true)
        for connection in connections.values {
            connection.helloTimer?.close()
            connection.socket.close()
        }
        wakeTimer?.close()
        timersDue?.close()
        housekeepingTimer?.close()
        turnHook?.close()
        durabilityTimer?.close()
        backpressure.timer?.close()
        for watcher in signalWatchers { watcher.close() }
        signalWatchers.removeAll()
        loop.stop()
    }

    // MARK: - Connections

    private func accept(_ socket: TCPConnection) {
        let id = ConnectionID(nextConnection)
        nextConnection += 1
        let connection = Connection(
            id: id,
            socket: socket,
            maxLineBytes: configuration.maxLineBytes,
            needsToken: configuration.tokens != nil
        )
        connections[id] = connection
        socket.setNoDelay(true)
        socket.onRead = { [unowned self] bytes in self.received(bytes, on: id) }
        socket.onClose = { [unowned self] _ in self.closed(id) }
        socket.startReading()
        startHelloTimer(for: connection)
    }

    private func received(_ bytes: [UInt8], on id: ConnectionID) {
        guard let connection = connections[id] else { return }
        guard !connection.isPaused else {
            // Read before the pause took effect; it waits with the rest.
            connection.backlog += bytes
            return
        }
        // Lines are parsed straight from the read buffer, while the peer's output is under its bound.
        feed(bytes[...], from: connection)
    }

    private func closed(_ id: ConnectionID) {
        guard let connection = connections.removeValue(forKey: id) else { return }
        connection.helloTimer?.close()
        connection.helloTimer = nil
        outbox.forget(id)
        handle(.disconnect(id))
    }

    // MARK: - Output

    /// Queues what `encode` appends to a peer's output, encoded in place; nothing is encoded for a peer that is
    /// gone. Over the peer's output bound it waits, encoded, behind what is deferred (`Daemon+Backpressure`).
    func send(to id: ConnectionID, _ encode: (inout [UInt8]) -> Void) {
        guard let connection = connections[id] else { return }
        guard !mustDefer(connection) else {
            var bytes: [UInt8] = []
            encode(&bytes)
            return deferOutput(.answer(bytes), for: connection)
        }
        enqueue(to: connection, dispatch: false, encode)
    }

    /// Appends to the answers (or, `dispatch`, to the dispatches) of `connection` in the turn's outbox; counts the
    /// bytes against the turn's encoding budget (`Daemon+Backpressure`).
    func enqueue(to connection: Connection, dispatch: Bool, _ encode: (inout [UInt8]) -> Void) {
        backpressure.encoded += outbox.append(to: connection.id, dispatch ? .dispatch : .answer, encode)
    }

    /// Bytes the daemon holds for `connection`, encoded: in the outbox, and what libuv has queued that the kernel
    /// did not take.
    func pendingBytes(of connection: Connection) -> Int {
        outbox.pendingBytes(of: connection.id) + connection.socket.unsentBytes
    }

    /// Queues a message that needs the turn's commit but not its durability (`task.run`, `task.cancel`, `hello`'s
    /// answer): it may leave before the answers of its turn (`Outbox.mayLeave`, the meta-page rule).
    func dispatch(to id: ConnectionID, _ encode: (inout [UInt8]) -> Void) {
        guard let connection = connections[id] else { return }
        guard !mustDefer(connection) else {
            var bytes: [UInt8] = []
            encode(&bytes)
            return deferOutput(.dispatch(bytes), for: connection)
        }
        enqueue(to: connection, dispatch: true, encode)
    }

    /// Queues the coordinator's answer `reply` to request `request`; over the peer's bound, or past the turn's
    /// encoding budget (a cancel answering thousands of waits with a large record), it waits unencoded.
    func answer(_ reply: Reply, to id: ConnectionID, request: RPCID?) {
        guard let connection = connections[id] else { return }
        guard !mustDefer(connection), backpressure.encoded < Self.encodingBudgetPerTurn else {
            deferOutput(.reply(id: request, reply), for: connection)
            outbox.noteReply(to: id, id: request)
            return
        }
        answer(to: id, request: request) { RPCEncoder.reply(id: request, reply, appendingTo: &$0) }
    }

    /// Queues an answer to request `request`; should the commit fail, it becomes -32005 instead.
    func answer(_ bytes: [UInt8], to id: ConnectionID, request: RPCID?) {
        answer(to: id, request: request) { $0 += bytes }
    }

    /// Queues the answer `encode` appends to the peer's output, as `answer(_:to:request:)` does.
    func answer(to id: ConnectionID, request: RPCID?, _ encode: (inout [UInt8]) -> Void) {
        send(to: id, encode)
        outbox.noteReply(to: id, id: request)
    }

    /// The loop's monotonic clock, refreshed, as an `Instant`: for intervals, never for stamps.
    var monotonicNow: Instant {
        loop.updateTime()
        return Instant(milliseconds: Int64(loop.now))
    }

    /// Feeds a command to the coordinator and takes in its decision.
    func handle(_ command: Command) {
        let now = Clock.now()
        coordinator.handle(command, at: now, into: &turn)
        // Performed in place: performing an effect handles no command and touches no other part of `turn`.
        perform(&turn.effects, at: now)
    }

    /// Takes in a decision made outside `handle` (the one `resume` returns) at `now`.
    func apply(_ decision: Decision, at now: Instant = Clock.now()) {
        turn.events += decision.events
        var effects = decision.effects
        perform(&effects, at: now)
    }

    /// Performs `effects` in order and empties the list, keeping its storage. Each effect is moved out of the list,
    /// a payload-free one left in its place: read where it lies, a `task.run`'s payload was copied (a retain per
    /// field) and then destroyed twice.
    /// `now` is the wall-clock time the effects were decided at: a timer waits from then.
    private func perform(_ effects: inout [Effect], at now: Instant) {
        for i in effects.indices {
            var effect = Effect.armTimer(.leaseTimeout(LeaseID(0)), at: .zero)
            swap(&effect, &effects[i])
            switch consume effect {
            case .reply(let request, let reply):
                guard let target = requests.removeValue(forKey: request), target.id != nil else { continue }
                answer(reply, to: target.connection, request: target.id)
            case .runTask(let worker, let run):
                guard let connection = connections[worker] else { continue }
                if mustDefer(connection) {
                    deferOutput(.run(run), for: connection)
                } else {
                    enqueue(to: connection, dispatch: true) { RPCEncoder.taskRun(run, appendingTo: &$0) }
                }
            case .cancelTask(let worker, let lease, let w, let t, let reason):
                observeCancel(w, t, reason: reason)
                dispatch(to: worker) { $0 += RPCEncoder.taskCancel(lease: lease, workflow: w, task: t, reason: reason) }
            case .armTimer(let id, let at, let atMost):
                // The wait, not the deadline, goes to the monotonic clock.
                var wait = (at - now).milliseconds
                if let atMost { wait = min(wait, max(0, atMost.milliseconds)) }
                loop.updateTime()
                outbox.arm(TurnTimer(id: id, due: loop.now + UInt64(wait), at: at))
            }
        }
        // What is left is placeholders, which cost nothing to drop; removeAll(keepingCapacity:) would go through the
        // generic replaceSubrange, several times slower for the one to three effects of a command.
        while !effects.isEmpty { effects.removeLast() }
    }

    /// A request id the coordinator will answer through `.reply`.
    /// A notification's request is registered too, and its answer dropped, so every command has one shape.
    func register(_ connection: ConnectionID, _ id: RPCID?) -> RequestID {
        let request = RequestID(nextRequest)
        nextRequest += 1
        requests[request] = (connection, id)
        return request
    }
}
