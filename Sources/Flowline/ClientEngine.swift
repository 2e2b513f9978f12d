import FlowlineProtocol
import FlowlineUV

/// Where a `Client` connects, and as whom.
struct Endpoint: Sendable {
    var host: String
    var port: Int
    var token: String?
    var name: String
    var connectTimeout: Duration = .seconds(10)

    /// `hello`'s params for `role`, plus `extra` (a worker's queues and concurrency).
    func hello(role: String, extra: JSONObject = [:]) -> JSON {
        var params: JSONObject = ["role": .string(role), "name": .string(name), "protocol": 1]
        if let token { params["token"] = .string(token) }
        for (key, value) in extra { params[key] = value }
        return .object(params)
    }
}

/// The loop-thread half of a `Client`: one connection, opened again on the next call after it drops.
final class ClientEngine {
    private let loop: EventLoop
    private let thread: LoopThread<ClientEngine>
    private let endpoint: Endpoint
    private var peer: RPCPeer?
    /// What waits for the connection being opened; each gets the peer, or the reason it could not be opened.
    private var waiting: [(Result<RPCPeer, FlowlineError>) -> Void]?
    private var isClosed = false

    init(loop: EventLoop, thread: LoopThread<ClientEngine>, endpoint: Endpoint) {
        self.loop = loop
        self.thread = thread
        self.endpoint = endpoint
    }

    /// Sends one request, connecting first if there is no connection.
    func call(_ method: String, _ params: JSON, _ completion: @escaping RPCPeer.Completion) {
        withPeer { result in
            switch result {
            case .success(let peer): peer.call(method, params, completion)
            case .failure(let error): completion(.failure(error))
            }
        }
    }

    /// Opens the connection unless it is open (`Client.init` reports a refused connection or a bad token at once).
    func connect(_ completion: @escaping (Result<Void, FlowlineError>) -> Void) {
        withPeer { completion($0.map { _ in () }) }
    }

    private func withPeer(_ body: @escaping (Result<RPCPeer, FlowlineError>) -> Void) {
        if isClosed {
            body(.failure(.connection("the client is closed")))
        } else if let peer, !peer.isClosed {
            body(.success(peer))
        } else if waiting != nil {
            waiting?.append(body)
        } else {
            waiting = [body]
            open()
        }
    }

    private func open() {
        RPCPeer.open(
            loop: loop,
            host: endpoint.host,
            port: endpoint.port,
            hello: endpoint.hello(role: "client"),
            timeout: endpoint.connectTimeout
        ) { [self] result in
            let bodies = waiting ?? []
            waiting = nil
            var result = result
            if isClosed, case .success(let peer) = result {
                peer.close()
                result = .failure(.connection("the client is closed"))
            }
            if case .success(let peer) = result { self.peer = peer }
            for body in bodies { body(result) }
        }
    }

    /// Closes the connection (pending calls fail with `.connection`) and ends the loop thread.
    func close() {
        guard !isClosed else { return }
        isClosed = true
        peer?.close()
        peer = nil
        for job in thread.close() { job(self) }
    }
}
