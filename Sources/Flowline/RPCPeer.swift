import FlowlineProtocol
import FlowlineUV

/// One JSON-RPC connection to the daemon, on the loop thread: requests with their completions keyed by id,
/// incoming requests and notifications (`task.run`, `task.cancel`) handed to `onRequest`.
///
/// Lines are framed and decoded by FlowlineProtocol, the same codec the daemon uses. Loop thread only.
final class RPCPeer {
    typealias Completion = (Result<JSON, FlowlineError>) -> Void

    /// The longest line accepted from the daemon; a larger one closes the connection.
    static let maxLineBytes = 256 * 1024 * 1024

    private let connection: TCPConnection
    /// Lines sent this loop turn, written together just before the loop next waits: a worker answering a read
    /// of many `task.run`s makes one write, not one per outcome.
    private var outbox: [UInt8] = []
    private var flushHook: TurnHook?
    private var framer = LineFramer(maxLineBytes: RPCPeer.maxLineBytes)
    // Reused for every line, so parsing one does not allocate the parser's stack again.
    private var parser = JSONLineParser(keepsNumberText: true)
    private var nextID: Int64 = 1
    private var pending: [Int64: Completion] = [:]
    private var closeReason: FlowlineError?
    /// Requests that came before `hello` was answered (the daemon may send `task.run` first), held until `open`
    /// has handed the peer over; nil once released.
    private var early: [(String, JSON, RPCID?)]? = []

    /// A request or notification from the daemon: method, params, id (nil for a notification).
    var onRequest: ((String, JSON, RPCID?) -> Void)?
    /// Runs once, after the connection closed and every pending completion failed.
    var onClose: ((FlowlineError) -> Void)?
    /// Every line sent, when `isRecording` (tests check the exact wire).
    private(set) var sentLines: [[UInt8]] = []
    var isRecording = false

    /// Whether the connection is over.
    var isClosed: Bool { connection.isClosed }

    private init(connection: TCPConnection) {
        self.connection = connection
        connection.setNoDelay(true)
        // The connection holds the peer through these closures until it closes, then drops them (no leak, no dangling).
        connection.onRead = { bytes in self.received(bytes) }
        connection.onClose = { error in self.closed(error) }
        connection.startReading()
    }

    /// Connects to `host:port` and says `hello` with `params`; `completion` gets the open peer, or the connect
    /// error, the `hello` error (`-32001` for a bad token), or `.timeout` after `timeout`.
    static func open(
        loop: EventLoop,
        host: String,
        port: Int,
        hello params: JSON,
        timeout: Duration,
        _ completion: @escaping (Result<RPCPeer, FlowlineError>) -> Void
    ) {
        var finished = false
        let timer: Timer? = try? Timer(loop: loop)
        func finish(_ result: Result<RPCPeer, FlowlineError>) {
            guard !finished else {
                if case .success(let late) = result { late.close() }
                return
            }
            finished = true
            timer?.close()
            completion(result)
        }
        timer?.start(afterMilliseconds: timeout.milliseconds) { finish(.failure(.timeout)) }
        TCPConnection.connect(loop: loop, host: host, port: port) { result in
            switch result {
            case .failure(let error):
                finish(.failure(.connection("cannot connect to \(host):\(port): \(error)")))
            case .success(let connection):
                let peer = RPCPeer(connection: connection)
                peer.flushHook = try? TurnHook(loop: loop) { [unowned peer] in peer.flush() }
                // Only the connection keeps the loop alive; the hook follows it.
                peer.flushHook?.unref()
                peer.call("hello", params) { answer in
                    switch answer {
                    case .success:
                        finish(.success(peer))
                        peer.releaseEarlyRequests()
                    case .failure(let error):
                        peer.close()
                        finish(.failure(error))
                    }
                }
            }
        }
    }

    /// Sends a request; `completion` runs once with the result, the error response, or `.connection` when the
    /// connection closes first.
    func call(_ method: String, _ params: JSON, _ completion: @escaping Completion) {
        call(method, writingParams: { $0.write(params) }, completion)
    }

    /// Sends a request whose params `writeParams` writes (one object or array); otherwise as `call(_:_:_:)`.
    func call(
        _ method: String,
        writingParams writeParams: (inout JSONWriter) -> Void,
        _ completion: @escaping Completion
    ) {
        if let closeReason {
            completion(.failure(closeReason))
            return
        }
        let id = nextID
        nextID += 1
        pending[id] = completion
        send(id: .int(id), method: method, writeParams)
    }

    /// Sends a notification (no id, no answer).
    func notify(_ method: String, _ params: JSON) {
        send(id: nil, method: method) { $0.write(params) }
    }

    /// Requests sent whose answer has not come yet.
    var pendingCount: Int { pending.count }

    /// Closes the connection now; pending calls fail with `.connection("closed")`.
    func close() {
        flush()
        connection.close()
    }

    /// Hands the requests held since connecting to `onRequest`, in order, and every later one as it comes.
    private func releaseEarlyRequests() {
        let held = early ?? []
        early = nil
        for (method, params, id) in held { onRequest?(method, params, id) }
    }

    /// Writes the line straight into the outbox, which holds only whole lines.
    private func send(id: RPCID?, method: String, _ writeParams: (inout JSONWriter) -> Void) {
        let start = outbox.count
        RPCEncoder.request(id: id, method: method, appendingTo: &outbox, params: writeParams)
        if isRecording { sentLines.append(Array(outbox[start..<(outbox.count - 1)])) }
        // Without a hook (it could not be made) every line goes at once.
        if flushHook == nil {
            connection.write(outbox)
            outbox.removeAll(keepingCapacity: true)
        }
    }

    private func flush() {
        guard !outbox.isEmpty, !connection.isClosed else { return }
        connection.write(outbox)
        outbox.removeAll(keepingCapacity: outbox.count <= 1 << 20)
    }

    private func received(_ bytes: [UInt8]) {
        // Lines are parsed straight from the read buffer. Nothing dispatching a line does touches the framer,
        // whose access lasts for the whole feed.
        var isClosing = false
        framer.feed(bytes[...]) { frame in
            guard !isClosing else { return }
            switch frame {
            case .tooLong:
                isClosing = true
                connection.close()
            case .line(let line):
                dispatch(line)
            }
        }
    }

    private func dispatch(_ line: ArraySlice<UInt8>) {
        let message: RPCMessage
        do {
            message = try RPCMessage.decode(line, using: &parser)
        } catch {
            // A line we cannot read cannot be answered usefully; the daemon never sends one.
            return
        }
        switch message {
        case .request(let id, let method, let params):
            if early != nil {
                early?.append((method, params, id))
            } else {
                onRequest?(method, params, id)
            }
        case .response(let id, let result):
            guard case .int(let n) = id, let completion = pending.removeValue(forKey: n) else { return }
            completion(.success(result))
        case .errorResponse(let id, let error):
            guard case .int(let n)? = id, let completion = pending.removeValue(forKey: n) else { return }
            completion(.failure(FlowlineError(error)))
        }
    }

    private func closed(_ error: UVError?) {
        flushHook?.close()
        flushHook = nil
        outbox = []
        let reason = FlowlineError.connection(error.map { "lost: \($0)" } ?? "closed")
        closeReason = reason
        let waiting = pending
        pending = [:]
        for (_, completion) in waiting.sorted(by: { $0.key < $1.key }) { completion(.failure(reason)) }
        let onClose = self.onClose
        self.onClose = nil
        onRequest = nil
        onClose?(reason)
    }
}
