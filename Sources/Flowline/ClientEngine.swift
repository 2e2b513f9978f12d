import FlowlineProtocol
import FlowlineUV

/// Where a `Client` connects, and as whom.
struct Endpoint: Sendable {
    var host: String
    var port: Int
    var token: String?
    var name: String
    var connectTimeout: Duration = .seconds(10)
    /// How long a call waits for a connection before `.connection` reaches its caller (SPEC §8).
    var reconnectBound: Duration = .seconds(60)

    /// `hello`'s params for `role`, plus `extra` (a worker's queues and concurrency).
    func hello(role: String, extra: JSONObject = [:]) -> JSON {
        var params: JSONObject = ["role": .string(role), "name": .string(name), "protocol": 1]
        if let token { params["token"] = .string(token) }
        for (key, value) in extra { params[key] = value }
        return .object(params)
    }
}

/// The loop-thread half of a `Client`: one connection, opened again after it drops (SPEC §8).
///
/// Calls queue while there is no connection; the engine reconnects with backoff (50 ms doubling to 2 s) as long
/// as a call waits, and a call fails with `.connection` only once it has waited for a connection for longer than
/// its bound. A call whose answer was lost with the connection is sent again after the reconnect when that is
/// safe (`isSafeToResend`); any other fails at once, since it may or may not have taken effect.
final class ClientEngine {
    /// One call waiting to be sent, or sent and waiting for its answer.
    struct Call {
        /// nil for `connect`, which only waits for the connection.
        var method: String?
        /// Made again for each send: a `wait` asks for what is left of its timeout.
        var params: () -> JSON
        var completion: RPCPeer.Completion
        /// How long the call may wait for a connection, counted from the failure that left it without one.
        var bound: Duration
        var isSafeToResend: Bool
        var failingSince: ContinuousClock.Instant?
    }

    private let loop: EventLoop
    private let thread: LoopThread<ClientEngine>
    private let endpoint: Endpoint
    private var peer: RPCPeer?
    /// Calls waiting for a connection, in the order they were made.
    private var queue: [Call] = []
    private var isConnecting = false
    private var backoffTimer: Timer?
    private var isBackingOff = false
    private var backoff = ClientEngine.backoffRange.lowerBound
    private var isClosed = false

    static let backoffRange: ClosedRange<Duration> = .milliseconds(50) ... .seconds(2)

    /// The methods whose re-send changes nothing (SPEC §8). A submit is safe only with an `id`, and a resolution
    /// only with a `resolution_id` (which `Client.resolve` and `reject` always set; a raw `call` may not).
    static let safeToResend: Set<String> = [
        "workflow.get", "workflow.list", "workflow.wait", "workflow.history", "stats", "workers.list",
        "workflow.cancel",
    ]

    static func isSafeToResend(_ method: String, _ params: JSON) -> Bool {
        if safeToResend.contains(method) { return true }
        switch method {
        case "workflow.submit": return params["id"].map { $0 != .null } ?? false
        case "future.resolve", "future.reject": return params["resolution_id"]?.stringValue != nil
        default: return false
        }
    }

    init(loop: EventLoop, thread: LoopThread<ClientEngine>, endpoint: Endpoint) {
        self.loop = loop
        self.thread = thread
        self.endpoint = endpoint
    }

    /// Sends one request once there is a connection, re-sending it after a reconnect when that is safe.
    func call(_ method: String, _ params: @escaping () -> JSON, _ completion: @escaping RPCPeer.Completion) {
        enqueue(
            Call(
                method: method,
                params: params,
                completion: completion,
                bound: endpoint.reconnectBound,
                isSafeToResend: Self.isSafeToResend(method, params()),
                failingSince: nil
            )
        )
    }

    /// Opens the connection unless it is open, trying once: `Client.init` reports a refused connection or a bad
    /// token at once.
    func connect(_ completion: @escaping (Result<Void, FlowlineError>) -> Void) {
        enqueue(
            Call(
                method: nil,
                params: { .null },
                completion: { completion($0.map { _ in () }) },
                bound: .zero,
                isSafeToResend: true,
                failingSince: nil
            )
        )
    }

    private func enqueue(_ call: Call) {
        guard !isClosed else { return call.completion(.failure(.connection("the client is closed"))) }
        queue.append(call)
        pump()
    }

    /// Sends what waits when there is a connection, else opens one unless that is under way.
    private func pump() {
        guard !isClosed else { return }
        if let peer, !peer.isClosed {
            let calls = queue
            queue = []
            for call in calls { send(call, on: peer) }
        } else if !queue.isEmpty && !isConnecting && !isBackingOff {
            open()
        }
    }

    private func send(_ call: Call, on peer: RPCPeer) {
        guard let method = call.method else { return call.completion(.success(.null)) }
        var sent = false
        peer.call(method, call.params()) { [self] result in
            if case .failure(.connection) = result, !isClosed, call.isSafeToResend || !sent {
                // The answer was lost with the connection (or nothing was sent): wait for the next one, for up to the
                // bound from now (a wait may have been answered by nothing for hours before its connection dropped).
                var again = call
                again.failingSince = .now
                queue.append(again)
                pump()
                return
            }
            call.completion(result)
        }
        // A peer already closed fails the call before sending anything, inside `peer.call`.
        sent = true
    }

    private func open() {
        isConnecting = true
        RPCPeer.open(
            loop: loop,
            host: endpoint.host,
            port: endpoint.port,
            hello: endpoint.hello(role: "client"),
            timeout: endpoint.connectTimeout
        ) { [self] result in
            isConnecting = false
            switch result {
            case .success(let peer):
                if isClosed { return peer.close() }
                self.peer = peer
                backoff = Self.backoffRange.lowerBound
                pump()
            case .failure(let error):
                if isClosed { return }
                failedToConnect(error)
            }
        }
    }

    /// No connection: a refusal of `hello` (a bad token) reaches every caller; otherwise each call waits for the
    /// next try unless that would take it past its bound.
    private func failedToConnect(_ error: FlowlineError) {
        let calls = queue
        queue = []
        if case .rpc = error {
            for call in calls { call.completion(.failure(error)) }
            return
        }
        let now = ContinuousClock.now
        let delay = backoff
        for var call in calls {
            let since = call.failingSince ?? now
            call.failingSince = since
            if now - since + delay > call.bound {
                let bound = call.bound.seconds
                let reason = "no connection to \(endpoint.host):\(endpoint.port) within \(bound) s: \(error)"
                call.completion(.failure(call.bound == .zero ? error : .connection(reason)))
            } else {
                queue.append(call)
            }
        }
        guard !queue.isEmpty else { return }
        if backoffTimer == nil { backoffTimer = try? Timer(loop: loop) }
        guard let backoffTimer else {
            for call in queue { call.completion(.failure(.connection("cannot start a timer"))) }
            queue = []
            return
        }
        backoff = min(backoff * 2, Self.backoffRange.upperBound)
        isBackingOff = true
        backoffTimer.start(afterMilliseconds: delay.milliseconds) { [self] in
            isBackingOff = false
            pump()
        }
    }

    /// Closes the connection (pending calls fail with `.connection`) and ends the loop thread.
    func close() {
        guard !isClosed else { return }
        isClosed = true
        let calls = queue
        queue = []
        for call in calls { call.completion(.failure(.connection("the client is closed"))) }
        backoffTimer?.close()
        backoffTimer = nil
        peer?.close()
        peer = nil
        for job in thread.close() { job(self) }
    }
}
