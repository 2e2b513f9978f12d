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

    init(id: WorkerID, socket: TCPConnection, maxLineBytes: Int, needsToken: Bool) {
        self.id = id
        self.socket = socket
        self.framer = LineFramer(maxLineBytes: maxLineBytes)
        self.isAuthenticated = !needsToken
    }

    var isWorker: Bool { hello?.role == .worker }
}
