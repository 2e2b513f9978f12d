import FlowlineCore
import FlowlineProtocol
import FlowlineUV

/// One peer of the daemon: its socket, its line framer, what it said in `hello`, and its output of this turn.
final class Connection {
    let id: WorkerID
    let socket: TCPConnection
    var framer: LineFramer
    var hello: Hello?
    /// Bytes for this peer produced during the turn; written after the turn's commit.
    var output: [UInt8] = []
    var isAuthenticated: Bool

    init(id: WorkerID, socket: TCPConnection, maxLineBytes: Int, needsToken: Bool) {
        self.id = id
        self.socket = socket
        self.framer = LineFramer(maxLineBytes: maxLineBytes)
        self.isAuthenticated = !needsToken
    }

    var isWorker: Bool { hello?.role == .worker }
}
