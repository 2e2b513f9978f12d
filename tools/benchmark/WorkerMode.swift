import Flowline
import FlowlineProtocol
import FlowlineUV
import Foundation
import Synchronization

/// What a bench worker process saw, printed as one JSON line when its stdin closes.
final class WorkerTally: Sendable {
    private struct State {
        var completed = 0
        var lastNanos: UInt64 = 0
        var arrivals: [UInt64] = []
    }
    private let state = Mutex(State())

    func arrived() { state.withLock { $0.arrivals.append(monotonicNanos()) } }
    func completed() {
        let now = monotonicNanos()
        state.withLock {
            $0.completed += 1
            $0.lastNanos = now
        }
    }

    var line: String {
        state.withLock { s in
            #"{"completed":\#(s.completed),"last_ns":\#(s.lastNanos),"arrivals":[\#(s.arrivals.map(String.init).joined(separator: ","))]}"#
        }
    }
}

/// Blocks until stdin reaches end of file (the driver closes it to say "report and exit").
func waitForStdinClose() {
    var buffer = [UInt8](repeating: 0, count: 256)
    while read(0, &buffer, buffer.count) > 0 {}
}

/// `flowline-bench --worker library|library-pool|raw --port P --name N --concurrency C`: a worker process.
/// Handlers: `noop` (null), `part` (its index), `combine` (how many deps it received), `step` (its dep's
/// result plus one: each step passes its result on). `library` uses the Flowline library's `Worker` with its
/// handlers inline (on the worker's connection thread: these handlers return at once), `library-pool` the same
/// `Worker` with handlers on the global concurrent executor (its default); `raw`
/// answers on a bare socket (the baseline of issue #2). Completion times are taken when the handler returns
/// (library) or when the daemon's answer to task.complete arrives (raw).
func runWorkerProcess(kind: String, port: Int, name: String, concurrency: Int) throws -> Never {
    let tally = WorkerTally()
    if kind == "raw" {
        let stop = Atomic<Bool>(false)
        Thread.detachNewThread {
            waitForStdinClose()
            stop.store(true, ordering: .relaxed)
        }
        let loop = try EventLoop()
        let peer = try Peer.connect(loop, port: port)
        peer.queue(
            Array(
                #"{"jsonrpc":"2.0","id":0,"method":"hello","params":{"role":"worker","name":"\#(name)","queues":["default"],"concurrency":\#(concurrency),"protocol":1}}"#
                    .utf8
            ) + [10]
        )
        peer.flush()
        var nextID: Int64 = 1
        peer.onMessage = { message in
            if message["method"] == .string("task.run"), let lease = message["params"]?["lease"]?.stringValue {
                if message["params"]?["handler"] == .string("step") { tally.arrived() }
                nextID += 1
                peer.queue(
                    Array(
                        #"{"jsonrpc":"2.0","id":\#(nextID),"method":"task.complete","params":{"lease":"\#(lease)","result":null}}"#
                            .utf8
                    ) + [10]
                )
            } else if message["result"] != nil, message["id"] != .int(0) {
                tally.completed()
            }
        }
        // Answers of one read go out in one write.
        _ = run(loop, seconds: 3600, afterEachTurn: { peer.flush() }) { stop.load(ordering: .relaxed) }
    } else {
        let worker = Worker(
            port: port,
            name: name,
            queues: ["default"],
            concurrency: concurrency,
            runsHandlersInline: kind == "library"
        )
        worker.register("noop") { _ in
            tally.completed()
            return .result(.null)
        }
        worker.register("part") { task in
            tally.completed()
            return .result(task.input["i"] ?? .null)
        }
        worker.register("combine") { task in
            tally.completed()
            return .result(.int(Int64(task.deps.count)))
        }
        worker.register("step") { task in
            tally.arrived()
            let previous = task.deps.values.first?.int64Value ?? 0
            tally.completed()
            return .result(.int(previous + 1))
        }
        Task.detached { try await worker.run() }
        waitForStdinClose()
    }
    FileHandle.standardOutput.write(Data((tally.line + "\n").utf8))
    exit(0)
}

/// `flowline-bench --echo`: the JSON-lines ping-pong peer. Each line is parsed and answered with a JSON-RPC
/// result carrying its id, on one libuv loop (the shape of the daemon's transport without Flowline's work).
func runEchoServer() throws -> Never {
    let loop = try EventLoop()
    var peers: [Peer] = []
    let listener = try TCPListener(loop: loop, host: "127.0.0.1", port: 0) { socket in
        let peer = Peer(socket)
        peer.onMessage = { message in
            var w = JSONWriter(capacity: 64)
            w.beginObject()
            w.key("jsonrpc")
            w.string("2.0")
            w.key("id")
            w.write(message["id"] ?? .null)
            w.key("result")
            w.beginObject()
            w.endObject()
            w.endObject()
            peer.queue(w.bytes + [10])
        }
        peers.append(peer)
    }
    FileHandle.standardOutput.write(Data("echo listening on 127.0.0.1:\(listener.port)\n".utf8))
    let stop = Atomic<Bool>(false)
    Thread.detachNewThread {
        waitForStdinClose()
        stop.store(true, ordering: .relaxed)
    }
    _ = run(loop, seconds: 3600, afterEachTurn: { for peer in peers { peer.flush() } }) {
        stop.load(ordering: .relaxed)
    }
    exit(0)
}
