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
    var armedFor: Instant?
    var turnHook: TurnHook?
    /// Turns the loop at the checkpoint interval, so that an idle daemon still compacts and checkpoints.
    var housekeeping: Timer?
    var signalWatchers: [SignalWatcher] = []
    let startedAt: Instant
    /// Parses every connection's lines, one whole line at a time on the loop thread, so one parser's storage serves
    /// them all.
    var lineParser = JSONLineParser(capturesPayloads: true)

    // MARK: - This turn's work, committed or dropped together

    /// The turn's events, which the coordinator appends to in place, and the effects of the command being handled
    /// (emptied once performed, its storage kept for the next).
    var turn = Decision()
    var turnTimers: [(TimerID, Instant)] = []
    var turnReplies: [(connection: WorkerID, id: RPCID?)] = []
    /// Peers given answers this turn (beyond what they had held), and peers given dispatches.
    var turnOutput: [WorkerID] = []
    var turnDispatches: [WorkerID] = []
    /// Peers whose answers wait for the journal's last commit to become durable (`Connection.heldBytes`), and the
    /// timer that syncs it should no commit come first (`Daemon.endTurn`).
    var held: [WorkerID] = []
    var durabilityTimer: Timer?

    // MARK: - Checkpoints

    /// Workflows changed since the last checkpoint; their snapshots are rewritten at the next one.
    var dirty: Set<WorkflowID> = []
    /// True after a replay from the journal's start (no checkpoint): every workflow in the state is dirty too,
    /// without hashing each id into `dirty` before the daemon listens.
    var isAllDirty = false
    var eventsSinceCheckpoint = 0
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
            mapSize: min(configuration.mapSize, configuration.maxMapSize)
        )
        journal.maxMapSize = configuration.maxMapSize
        // A turn's commit then syncs the records' pages without the index's; the index catches up every 2,048
        // records, at checkpoints and compactions, and `records(ofWorkflow:)` scans what it has not caught up.
        journal.indexDeferral = 2048
        self.startedAt = Clock.now()
        self.lastCheckpoint = startedAt
        self.lastCompaction = startedAt
        self.coordinator = Coordinator(futureRetention: configuration.futureRetention)
        try recover()
    }

    /// Replays the journal into a fresh coordinator and resumes: open leases are given back, timers re-armed.
    func recover() throws {
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
        let resumed = coordinator.resume(at: Clock.now())
        apply(resumed)
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
        turnHook = try TurnHook(loop: loop) { [unowned self] in self.endTurn() }
        durabilityTimer = try Timer(loop: loop)
        let interval = UInt64(max(100, configuration.checkpointInterval.milliseconds))
        housekeeping = try Timer(loop: loop)
        housekeeping?.start(afterMilliseconds: interval, repeatMilliseconds: interval) {}
        for signal in [SIGINT, SIGTERM] {
            signalWatchers.append(try SignalWatcher(loop: loop, signal: signal) { [unowned self] in self.shutdown() })
        }
        endTurn()
        logger.info("listening", metadata: ["listen": "\(configuration.host):\(listener.port)"])
        onListening(configuration.host, listener.port)
        loop.run()
    }

    /// Stops accepting, commits what is pending, closes everything; `run` then returns.
    func shutdown() {
        logger.info("shutting down")
        listener?.close()
        listener = nil
        endTurn(checkpoint: true)
        for connection in connections.values { connection.socket.close() }
        wakeTimer?.close()
        housekeeping?.close()
        turnHook?.close()
        durabilityTimer?.close()
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
            needsToken: configuration.token != nil
        )
        connections[id] = connection
        socket.setNoDelay(true)
        socket.onRead = { [unowned self] bytes in self.received(bytes, on: id) }
        socket.onClose = { [unowned self] _ in self.closed(id) }
        socket.startReading()
    }

    private func received(_ bytes: [UInt8], on id: WorkerID) {
        guard let connection = connections[id] else { return }
        // Lines are parsed straight from the read buffer. Nothing a line's handling does touches the framer, whose
        // access lasts for the whole feed.
        connection.framer.feed(bytes[...]) { frame in
            switch frame {
            case .line(let line): handleLine(line, from: connection)
            case .tooLong:
                answer(
                    RPCEncoder.error(id: nil, .lineTooLong(limit: configuration.maxLineBytes)),
                    to: id,
                    request: nil
                )
            }
        }
    }

    private func closed(_ id: WorkerID) {
        guard connections.removeValue(forKey: id) != nil else { return }
        handle(.disconnect(id))
    }

    // MARK: - Output

    /// Queues what `encode` appends to a peer's output, encoded in place; nothing is encoded for a peer that is
    /// gone.
    func send(to id: WorkerID, _ encode: (inout [UInt8]) -> Void) {
        guard let connection = connections[id] else { return }
        if connection.output.count == connection.heldBytes { turnOutput.append(id) }
        encode(&connection.output)
    }

    /// Queues a message that needs the turn's commit but not its durability (`task.run`, `task.cancel`, `hello`'s
    /// answer): with `--sync full` it leaves before the commit's meta page is synced, ahead of answers held for
    /// it. A power loss may then undo the commit of a dispatch that went out, and the task runs again, as it would
    /// after its lease expired: execution is at-least-once. With `--sync none` it is ordinary output.
    func dispatch(to id: WorkerID, _ encode: (inout [UInt8]) -> Void) {
        guard configuration.sync == .full else { return send(to: id, encode) }
        guard let connection = connections[id] else { return }
        if connection.dispatches.isEmpty { turnDispatches.append(id) }
        encode(&connection.dispatches)
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

    /// Feeds a command to the coordinator and takes in its decision.
    func handle(_ command: Command) {
        coordinator.handle(command, at: Clock.now(), into: &turn)
        // Performed in place: performing an effect handles no command and touches no other part of `turn`.
        perform(&turn.effects)
    }

    /// Takes in a decision made outside `handle` (the one `resume` returns).
    func apply(_ decision: Decision) {
        turn.events += decision.events
        var effects = decision.effects
        perform(&effects)
    }

    /// Performs `effects` in order and empties the list, keeping its storage. Each effect is moved out of the list,
    /// a payload-free one left in its place: read where it lies, a `task.run`'s payload was copied (a retain per
    /// field) and then destroyed twice.
    private func perform(_ effects: inout [Effect]) {
        for i in effects.indices {
            var effect = Effect.armTimer(.leaseTimeout(LeaseID(0)), at: .zero)
            swap(&effect, &effects[i])
            switch consume effect {
            case .reply(let request, let reply):
                guard let target = requests.removeValue(forKey: request), target.id != nil else { continue }
                answer(to: target.connection, request: target.id) {
                    RPCEncoder.reply(id: target.id, reply, appendingTo: &$0)
                }
            case .runTask(let worker, let run): dispatch(to: worker) { RPCEncoder.taskRun(run, appendingTo: &$0) }
            case .cancelTask(let worker, let lease, let w, let t, let reason):
                dispatch(to: worker) { $0 += RPCEncoder.taskCancel(lease: lease, workflow: w, task: t, reason: reason) }
            case .armTimer(let id, let at): turnTimers.append((id, at))
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
