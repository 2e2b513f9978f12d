public import FlowlineProtocol
import FlowlineUV
import Foundation

/// A synchronous JSON-RPC peer on a real socket, with its own libuv loop that runs only while the test waits.
/// Every wait has a deadline. Tests script workers and clients with it line by line.
public final class LineClient {
    public struct Timeout: Error, CustomStringConvertible {
        public var waitingFor: String
        public var description: String { "timed out waiting for \(waitingFor)" }
    }

    public struct Closed: Error {}

    /// What the socket's callbacks write into; it outlives the client if a callback comes late.
    private final class Mailbox {
        var framer = LineFramer(maxLineBytes: 256 * 1024 * 1024)
        var inbox: [JSON] = []
        var received: [[UInt8]] = []
        var isClosed = false
    }

    private let loop: EventLoop
    private var connection: TCPConnection?
    private let mailbox = Mailbox()
    /// Decoded messages not yet taken, in arrival order.
    public var inbox: [JSON] {
        get { mailbox.inbox }
        set { mailbox.inbox = newValue }
    }
    /// Every line received, for schema checks.
    public var received: [[UInt8]] { mailbox.received }
    /// Every line sent, for schema checks.
    public private(set) var sent: [[UInt8]] = []
    public var isClosed: Bool { mailbox.isClosed }
    private var nextID: Int64 = 1

    public init(port: Int, host: String = "127.0.0.1") throws {
        loop = try EventLoop()
        var result: Result<TCPConnection, UVError>?
        TCPConnection.connect(loop: loop, host: host, port: port) { result = $0 }
        try run(until: "connect") { result != nil }
        let connection = try result!.get()
        self.connection = connection
        let mailbox = self.mailbox
        connection.onRead = { bytes in
            for frame in mailbox.framer.feed(bytes) {
                guard case .line(let line) = frame else { continue }
                mailbox.received.append(line)
                if let json = try? JSONParser.parse(line) { mailbox.inbox.append(json) }
            }
        }
        connection.onClose = { _ in mailbox.isClosed = true }
        connection.startReading()
    }

    deinit { close() }

    public func close() {
        guard let connection else { return }
        self.connection = nil
        connection.close()
        let mailbox = self.mailbox
        _ = try? run(until: "close", timeout: 2) { mailbox.isClosed }
    }

    /// Sends raw bytes as they are (a test of bad input may send anything).
    public func sendRaw(_ bytes: [UInt8]) {
        connection?.write(bytes)
        _ = loop.runOnce(wait: false)
    }

    /// Sends one request and returns its id; `notification` leaves the id out.
    @discardableResult
    public func send(_ method: String, _ params: String = "{}", notification: Bool = false) -> Int64 {
        let id = nextID
        nextID += 1
        let params = params.replacingOccurrences(of: "\n", with: " ")
        let line =
            Array(
                (notification
                    ? #"{"jsonrpc":"2.0","method":"\#(method)","params":\#(params)}"#
                    : #"{"jsonrpc":"2.0","id":\#(id),"method":"\#(method)","params":\#(params)}"#).utf8
            ) + [10]
        sent.append(Array(line.dropLast()))
        sendRaw(line)
        return id
    }

    /// Calls a method and returns the whole response (result or error), keeping other messages in the inbox.
    public func call(_ method: String, _ params: String = "{}", timeout: Double = 10) throws -> JSON {
        let id = send(method, params)
        return try response(to: id, timeout: timeout)
    }

    /// Calls a method and returns its result; an error response throws it.
    public func result(_ method: String, _ params: String = "{}", timeout: Double = 10) throws -> JSON {
        let response = try call(method, params, timeout: timeout)
        if let error = response["error"] { throw RPCFailure(error: error) }
        return response["result"] ?? .null
    }

    /// Waits for the response with this id.
    public func response(to id: Int64, timeout: Double = 10) throws -> JSON {
        var found: JSON?
        try run(until: "response \(id)", timeout: timeout) {
            if let index = self.inbox.firstIndex(where: { $0["id"] == .int(id) }) {
                found = self.inbox.remove(at: index)
            }
            return found != nil
        }
        return found!
    }

    /// Waits for the next message without an id matching a request of ours: a notification or an id-null error.
    public func nextMessage(method: String? = nil, timeout: Double = 10) throws -> JSON {
        var found: JSON?
        try run(until: method ?? "a message", timeout: timeout) {
            if let index = self.inbox.firstIndex(where: {
                method == nil ? $0["method"] != nil || $0["id"] == .null : $0["method"] == .string(method!)
            }) {
                found = self.inbox.remove(at: index)
            }
            return found != nil
        }
        return found!
    }

    /// Takes in whatever has arrived, without waiting; returns how many messages the inbox holds.
    @discardableResult
    public func poll() -> Int {
        _ = loop.runOnce(wait: false)
        return inbox.count
    }

    /// Lets the loop run for a while, collecting whatever arrives.
    public func pump(seconds: Double) {
        _ = try? run(until: "nothing", timeout: seconds) { false }
    }

    private func run(until what: String, timeout: Double = 10, _ done: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        let timer = try Timer(loop: loop)
        defer { timer.close() }
        timer.start(afterMilliseconds: 5, repeatMilliseconds: 5) {}
        while !done() {
            if Date() >= deadline {
                if what == "nothing" { return }
                throw Timeout(waitingFor: what)
            }
            if isClosed && what != "close" && what != "connect" { throw Closed() }
            _ = loop.runOnce(wait: true)
        }
    }
}

/// An error response, thrown by `LineClient.result`.
public struct RPCFailure: Error, CustomStringConvertible {
    public var error: JSON
    public var code: Int64? { error["code"]?.int64Value }
    public var description: String { String(decoding: error.encoded, as: UTF8.self) }
}
