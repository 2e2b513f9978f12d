import FlowlineCore
import FlowlineHTTP
import FlowlineJournal
import FlowlineProtocol
import FlowlineUV
import Logging

/// One HTTP peer: its socket, its request parser, and since when it has kept the daemon waiting.
final class HTTPClient {
    let socket: TCPConnection
    var parser = HTTPRequestParser()
    /// On the loop's clock: when the request being received began, or when the peer last went idle.
    var since: UInt64

    init(socket: TCPConnection, now: UInt64) {
        self.socket = socket
        self.since = now
    }
}

/// The HTTP side of the daemon (SPEC §10): a listener on the daemon's own loop, its peers, and a sweep that closes
/// the slow ones. Requests are answered at once, from the state as it is: nothing an HTTP request does writes.
struct HTTPSide {
    var listener: TCPListener?
    var clients: [UInt64: HTTPClient] = [:]
    var nextClient: UInt64 = 1
    var sweep: Timer?
    var onListening: ((String, Int) -> Void)?

    /// A keep-alive peer idle this long is closed.
    static let idleTimeout: UInt64 = 60_000
    /// Past this many HTTP peers a new one is refused with 503: the JSON-RPC peers' descriptors come first.
    static let maxClients = 256
    /// A peer that leaves this much of its answers unread is closed.
    static let maxUnsentBytes = 16 << 20
}

extension Daemon {
    /// Called with the address `--http` bound, once it listens (`flowlined` prints it).
    public func onHTTPListening(_ report: @escaping (String, Int) -> Void) {
        http.onListening = report
    }

    /// Starts the HTTP listener when `--http` asks for one.
    func startHTTP() throws {
        guard let host = configuration.httpHost else { return }
        let listener = try TCPListener(loop: loop, host: host, port: configuration.httpPort) { [unowned self] socket in
            self.acceptHTTP(socket)
        }
        http.listener = listener
        let sweep = try Timer(loop: loop)
        // Often enough that a slow request is closed within half its timeout past it.
        let every = UInt64(max(100, min(1000, configuration.httpRequestTimeout.milliseconds / 2)))
        sweep.start(afterMilliseconds: every, repeatMilliseconds: every) { [unowned self] in self.sweepHTTP() }
        http.sweep = sweep
        logger.info("http listening", metadata: ["http": "\(listener.host):\(listener.port)"])
        http.onListening?(listener.host, listener.port)
    }

    func stopHTTP() {
        http.listener?.close()
        http.listener = nil
        http.sweep?.close()
        http.sweep = nil
        for client in http.clients.values { client.socket.close() }
    }

    private func acceptHTTP(_ socket: TCPConnection) {
        guard http.clients.count < HTTPSide.maxClients else {
            socket.write(HTTPResponse.text(503, "too many HTTP connections").serialized(keepAlive: false))
            socket.closeAfterWrites()
            return
        }
        let id = http.nextClient
        http.nextClient += 1
        let client = HTTPClient(socket: socket, now: loop.now)
        http.clients[id] = client
        socket.setNoDelay(true)
        socket.onRead = { [unowned self] bytes in self.receivedHTTP(bytes, from: id) }
        socket.onClose = { [unowned self] _ in self.http.clients[id] = nil }
        socket.startReading()
    }

    private func receivedHTTP(_ bytes: [UInt8], from id: UInt64) {
        guard let client = http.clients[id] else { return }
        if !client.parser.hasPartialRequest { client.since = loop.now }
        client.parser.append(bytes)
        while !client.socket.isClosed {
            let request: HTTPRequest
            do {
                guard let next = try client.parser.next() else { break }
                request = next
            } catch {
                client.socket.write(HTTPResponse.text(error.status, error.reason).serialized(keepAlive: false))
                client.socket.closeAfterWrites()
                http.clients[id] = nil
                return
            }
            metrics.httpRequests += 1
            let response = respond(to: request)
            let keepAlive = request.keepAlive
            client.socket.write(response.serialized(keepAlive: keepAlive, headOnly: request.method == "HEAD"))
            if !keepAlive {
                client.socket.closeAfterWrites()
                http.clients[id] = nil
                return
            }
            if client.socket.unsentBytes > HTTPSide.maxUnsentBytes {
                client.socket.close()
                return
            }
        }
        client.since = loop.now
    }

    /// Closes peers that take too long to send a request, and idle ones.
    private func sweepHTTP() {
        let now = loop.now
        let requestTimeout = UInt64(max(0, configuration.httpRequestTimeout.milliseconds))
        for (id, client) in http.clients {
            let waited = now &- client.since
            if client.parser.hasPartialRequest && waited > requestTimeout {
                client.socket.write(HTTPResponse.text(408, "the request took too long").serialized(keepAlive: false))
                client.socket.closeAfterWrites()
                http.clients[id] = nil
            } else if !client.parser.hasPartialRequest && waited > HTTPSide.idleTimeout {
                client.socket.close()
            }
        }
    }
}
