import FlowlineProtocol
import FlowlineUV

/// One benchmark connection on the shared loop: writes lines, hands each decoded message to `onMessage`.
final class Peer {
    let socket: TCPConnection
    var framer = LineFramer(maxLineBytes: 1 << 30)
    var onMessage: (JSON) -> Void = { _ in }
    private var pending: [UInt8] = []

    init(_ socket: TCPConnection) {
        self.socket = socket
        socket.setNoDelay(true)
        socket.onRead = { [unowned self] bytes in
            for frame in self.framer.feed(bytes) {
                guard case .line(let line) = frame, let json = try? JSONParser.parse(line) else { continue }
                self.onMessage(json)
            }
        }
        socket.startReading()
    }

    /// Queues a line; `flush` writes everything queued in one write.
    func queue(_ line: [UInt8]) { pending += line }

    func flush() {
        guard !pending.isEmpty else { return }
        socket.write(pending)
        pending.removeAll(keepingCapacity: true)
    }

    static func connect(_ loop: EventLoop, port: Int) throws -> Peer {
        var result: Result<TCPConnection, UVError>?
        TCPConnection.connect(loop: loop, host: "127.0.0.1", port: port) { result = $0 }
        while result == nil { loop.runOnce(wait: true) }
        return Peer(try result!.get())
    }
}

/// Runs the loop until `done` holds or `seconds` pass, calling `afterEachTurn` after every turn (to flush what
/// the turn's callbacks queued in one write, as the daemon does).
func run(_ loop: EventLoop, seconds: Double, afterEachTurn: () -> Void = {}, until done: () -> Bool) -> Bool {
    let timer = try! Timer(loop: loop)
    defer { timer.close() }
    timer.start(afterMilliseconds: 10, repeatMilliseconds: 10) {}
    let deadline = monotonicSeconds() + seconds
    while !done() {
        if monotonicSeconds() > deadline { return false }
        loop.runOnce(wait: true)
        afterEachTurn()
    }
    return true
}
