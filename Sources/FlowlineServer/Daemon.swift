import FlowlineCore
import FlowlineJournal
import FlowlineProtocol
import FlowlineUV
import Glibc
public import Logging

/// The daemon's shell: one libuv loop owns the coordinator, the journal and every connection.
///
/// Each loop turn decodes what arrived, feeds it to the coordinator, and collects the resulting events and
/// output. The turn hook (run just before the loop blocks) commits the turn's events in one LMDB transaction
/// and only then writes the output and arms the timers: nothing leaves before what it reports is committed, and no
/// answer before it is on disk (`writeOutput`).
public final class Daemon {
    let configuration: DaemonConfiguration
    let logger: Logger
    let loop: EventLoop
    let journal: JournalStore
    var coordinator: Coordinator
    var listener: TCPListener?
    var connections: [WorkerID: Connection] = [:]
    var nextConnection: UInt64 = 1
    /// Requests the coordinator will answer later, with where the answer goes.
    var requests: [RequestID: (connection: WorkerID, id: RPCID?)] = [:]
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
    var housekeeping: Timer?
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
    var turnTimers: [(id: TimerID, due: UInt64, at: Instant)] = []
    var turnReplies: [(connection: WorkerID, id: RPCID?)] = []
    /// Peers given answers this turn (beyond what they had held), and peers given dispatches.
    var turnOutput: [WorkerID] = []
    var turnDispatches: [WorkerID] = []
    /// Peers whose answers wait for the journal's last commit to become durable (`Connection.heldBytes`), and the
    /// timer that syncs it should no commit come first (`Daemon.endTurn`).
    var held: [WorkerID] = []
    var durabilityTimer: Timer?

    /// Reads handled this turn: answered again, from the state the journal holds, should the turn's commit fail.
    var turnReads: [(connection: WorkerID, id: RPCID, call: Call)] = []

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

    /// Workflows changed since the last checkpoint; their snapshots are rewritten at the next one.
    var dirty: Set<WorkflowID> = []
    /// True after a replay from the journal's start (no checkpoint): every workflow in the state is dirty too,
    /// without hashing each id into `dirty` before the daemon listens.
    var isAllDirty = false
    var eventsSinceCheckpoint = 0
    /// On the loop's monotonic clock (`monotonicNow`), so that a wall clock set back does not put them off.
    var lastCheckpoint: Instant
    var lastCompaction: Instant

    /// Opens the journal and rebuilds the state from it.
    public init(configuration: DaemonConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        self.loop = try EventLoop()
        self.journal = try JournalStore(
            directory: configuration.dataDirectory,
            sync: configuration.sync,
            mapSize: min(configuration.mapSize, configuration.maxMapSize),
            maxMapSize: configuration.maxMapSize,
            exclusive: true
        )
        // A turn's commit then syncs the records' pages without the index's; the index catches up every 2,048
        // records, at checkpoints and compactions, and `records(ofWorkflow:)` scans what it has not caught up.
        journal.indexDeferral = 2048
        self.startedAt = Clock.now()
        self.lastCheckpoint = Instant(milliseconds: Int64(loop.now))
        self.lastCompaction = lastCheckpoint
        self.coordinator = Coordinator(futureRetention: configuration.futureRetention)
        try recover()
    }

    /// Replays the journal into a fresh coordinator and resumes: open leases are given back, timers re-armed.
    /// Without `resuming`, the state is left as the journal has it, for `resume` later.
    func recover(resuming: Bool = true) throws {
        coordinator = Coordinator(futureRetention: configuration.futureRetention)
        var from: UInt64 = 1
        var snapshots = 0
        if let globals = try journal.checkpoint() {
            let (restored, seq) = try SnapshotCodec.decodeGlobals(globals)
            let workflows = try journal.snapshotWorkflows()
            snapshots = workflows.count
            coordinator = Coordinator(
                state: CoordinatorState(globals: restored, workflows: workflows),
                futureRetention: configuration.futureRetention
            )
            from = seq + 1
        }
        coordinator.maxKeptFutures = configuration.maxKeptFutures
        // A first pass reads two bytes per record: sizing the workflow table once costs less than the doublings.
        coordinator.reserveCapacity(forSubmissions: try journal.countWorkflowsSubmitted(from: from))
        dirty = []
        isAllDirty = false
        var lastDirty = WorkflowID("")
        var count = 0
        try journal.replaySteps(from: from) { step in
            coordinator.replay(&step)
            // What changed after the checkpoint must be in the next one (without a checkpoint, everything is;
            // see below). A workflow's events mostly come in runs, so checking the last one spares most hashing.
            if from == 1 {
                // Collected once after the replay.
            } else if case .workflowsCompacted(let ids, _) = step.event {
                dirty.formUnion(ids)
            } else if !step.event.workflowID.rawValue.isEmpty && step.event.workflowID != lastDirty {
                dirty.insert(step.event.workflowID)
                lastDirty = step.event.workflowID
            }
            count += 1
            return true
        }
        eventsSinceCheckpoint = count
        if from == 1 { isAllDirty = !coordinator.state.workflows.isEmpty }
        if resuming {
            let now = Clock.now()
            let resumed = coordinator.resume(at: now)
            apply(resumed, at: now)
        }
        logger.info(
            "recovered",
            metadata: [
                "snapshots": "\(snapshots)", "events": "\(count)", "from_seq": "\(from)",
                "workflows": "\(coordinator.state.workflows.count)",
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
        housekeeping = try Timer(loop: loop)
        housekeeping?.start(afterMilliseconds: interval, repeatMilliseconds: interval) {}
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
        housekeeping?.close()
        turnHook?.close()
        durabilityTimer?.close()
        backpressure.timer?.close()
        for watcher in signalWatchers { watcher.close() }
        signalWatchers.removeAll()
        loop.stop()
    }

    // MARK: - Connections

    private func accept(_ socket: TCPConnection) {
        let id = WorkerID(nextConnection)
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

    private func received(_ bytes: [UInt8], on id: WorkerID) {
        guard let connection = connections[id] else { return }
        guard !connection.isPaused else {
            // Read before the pause took effect; it waits with the rest.
            connection.backlog += bytes
            return
        }
        // Lines are parsed straight from the read buffer, while the peer's output is under its bound.
        feed(bytes[...], from: connection)
    }

    private func closed(_ id: WorkerID) {
        guard let connection = connections.removeValue(forKey: id) else { return }
        connection.helloTimer?.close()
        connection.helloTimer = nil
        handle(.disconnect(id))
    }

    // MARK: - Output

    /// Queues what `encode` appends to a peer's output, encoded in place; nothing is encoded for a peer that is
    /// gone. Over the peer's output bound it waits, encoded, behind what is deferred (`Daemon+Backpressure`).
    func send(to id: WorkerID, _ encode: (inout [UInt8]) -> Void) {
        guard let connection = connections[id] else { return }
        guard !mustDefer(connection) else {
            var bytes: [UInt8] = []
            encode(&bytes)
            return deferOutput(.answer(bytes), for: connection)
        }
        enqueue(to: connection, dispatch: false, encode)
    }

    /// Appends to the output (or, `dispatch`, to the dispatches) of `connection` and marks it for this turn's write;
    /// counts the bytes against the turn's encoding budget (`Daemon+Backpressure`).
    func enqueue(to connection: Connection, dispatch: Bool, _ encode: (inout [UInt8]) -> Void) {
        if dispatch && configuration.sync == .full {
            if connection.dispatches.isEmpty { turnDispatches.append(connection.id) }
            let before = connection.dispatches.count
            encode(&connection.dispatches)
            backpressure.encoded += connection.dispatches.count - before
        } else {
            if connection.output.count == connection.heldBytes { turnOutput.append(connection.id) }
            let before = connection.output.count
            encode(&connection.output)
            backpressure.encoded += connection.output.count - before
        }
    }

    /// Queues a message that needs the turn's commit but not its durability (`task.run`, `task.cancel`, `hello`'s
    /// answer): with `--sync full` it leaves before the commit's meta page is synced, ahead of answers held for
    /// it. A power loss may then undo the commit of a dispatch that went out, and the task runs again, as it would
    /// after its lease expired: execution is at-least-once. With `--sync none` it is ordinary output.
    func dispatch(to id: WorkerID, _ encode: (inout [UInt8]) -> Void) {
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
    func answer(_ reply: Reply, to id: WorkerID, request: RPCID?) {
        guard let connection = connections[id] else { return }
        guard !mustDefer(connection), backpressure.encoded < Self.encodingBudgetPerTurn else {
            deferOutput(.reply(id: request, reply), for: connection)
            turnReplies.append((id, request))
            return
        }
        answer(to: id, request: request) { RPCEncoder.reply(id: request, reply, appendingTo: &$0) }
    }

    /// Queues an answer to request `request`; should the commit fail, it becomes -32005 instead.
    func answer(_ bytes: [UInt8], to id: WorkerID, request: RPCID?) {
        answer(to: id, request: request) { $0 += bytes }
    }

    /// Queues the answer `encode` appends to the peer's output, as `answer(_:to:request:)` does.
    func answer(to id: WorkerID, request: RPCID?, _ encode: (inout [UInt8]) -> Void) {
        send(to: id, encode)
        turnReplies.append((id, request))
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
                turnTimers.append((id, loop.now + UInt64(wait), at))
            }
        }
        // What is left is placeholders, which cost nothing to drop; removeAll(keepingCapacity:) would go through the
        // generic replaceSubrange, several times slower for the one to three effects of a command.
        while !effects.isEmpty { effects.removeLast() }
    }

    /// A request id the coordinator will answer through `.reply`.
    /// A notification's request is registered too, and its answer dropped, so every command has one shape.
    func register(_ connection: WorkerID, _ id: RPCID?) -> RequestID {
        let request = RequestID(nextRequest)
        nextRequest += 1
        requests[request] = (connection, id)
        return request
    }
}
