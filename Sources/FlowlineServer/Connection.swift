import FlowlineCore
import FlowlineProtocol
import FlowlineUV

/// One peer of the daemon: its socket, its line framer, what it said in `hello`, and its output of this turn.
final class Connection {
    let id: WorkerID
    let socket: TCPConnection
    var framer: LineFramer
    var hello: Hello?
    /// Answers (and with `--sync none` everything else) for this peer, written once the commits they report are
    /// durable (`Daemon.endTurn`).
    var output: [UInt8] = []
    /// How many bytes at the start of `output` an earlier turn left waiting for its commit to become durable.
    var heldBytes = 0
    /// With `--sync full`: `task.run`, `task.cancel` and `hello`'s answer, written as soon as the turn's commit
    /// returns, before its meta page is on disk.
    var dispatches: [UInt8] = []
    var isAuthenticated: Bool
    /// What the token of the good `hello` allows; nil where no token is required.
    var grant: AccessTokens.Grant?

    // MARK: - Backpressure (`Daemon+Backpressure.swift`)

    /// Output queued while the peer's pending output was over `--max-pending-output-bytes`, in order, mostly not yet
    /// encoded (a reply or a task holds the workflow's values, shared with the state): encoded at the end of a turn
    /// as the peer drains.
    var deferred: [DeferredOutput] = []
    /// How many entries at the start of `deferred` came from turns whose commit succeeded; the rest are this turn's.
    var committedDeferred = 0
    /// While true the socket is not read and `backlog` holds the rest of the last chunk read, not yet framed.
    var isPaused = false
    var backlog: [UInt8] = []
    /// Closes a peer that has not said a good `hello` in time, where a token is required.
    var helloTimer: Timer?

    init(id: WorkerID, socket: TCPConnection, maxLineBytes: Int, needsToken: Bool) {
        self.id = id
        self.socket = socket
        // Before a good hello the peer is nobody: it may make the daemon hold only a short line.
        self.framer = LineFramer(maxLineBytes: needsToken ? min(maxLineBytes, Self.preHelloLineBytes) : maxLineBytes)
        self.isAuthenticated = !needsToken
    }

    /// The longest line a peer that has not said a good `hello` may send where a token is required (SPEC §7).
    static let preHelloLineBytes = 64 * 1024

    var isWorker: Bool { hello?.role == .worker }

    /// Bytes the daemon holds for this peer, encoded: this turn's and held output, dispatches, and what libuv has
    /// queued that the kernel did not take.
    var pendingBytes: Int { output.count + dispatches.count + socket.unsentBytes }
}

/// One message held back for a peer over its output bound.
enum DeferredOutput {
    /// An answer from the coordinator, encoded when it goes out.
    case reply(id: RPCID?, Reply)
    /// A task for a worker, encoded when it goes out.
    case run(TaskRun)
    /// An answer or a dispatch already encoded (answers to lines are: a paused peer's lines wait unread).
    case answer([UInt8])
    case dispatch([UInt8])
}
