import FlowlineProtocol
import FlowlineUV
import Foundation

/// A client connection on the driver's loop: requests with callbacks for their answers.
final class RPCClient {
    let loop: EventLoop
    let peer: Peer
    private var nextID: Int64 = 1
    private var waiting: [Int64: (JSON) -> Void] = [:]

    init(port: Int) throws {
        loop = try EventLoop()
        peer = try Peer.connect(loop, port: port)
        peer.onMessage = { [unowned self] message in
            if let id = message["id"]?.int64Value, let callback = self.waiting.removeValue(forKey: id) {
                callback(message)
            }
        }
    }

    var inFlight: Int { waiting.count }

    /// Queues a request (`params` is raw JSON text); `flush()` or `run` sends it.
    func queue(_ method: String, _ params: String, _ callback: @escaping (JSON) -> Void = { _ in }) {
        let id = nextID
        nextID += 1
        waiting[id] = callback
        peer.queue(Array(#"{"jsonrpc":"2.0","id":\#(id),"method":"\#(method)","params":\#(params)}"#.utf8) + [10])
    }

    /// Sends one request and runs the loop until its answer.
    func call(_ method: String, _ params: String, timeout: Double = 600) throws -> JSON {
        var answer: JSON?
        queue(method, params) { answer = $0 }
        peer.flush()
        guard run(loop, seconds: timeout, until: { answer != nil }) else {
            throw BenchError("\(method): no answer in \(timeout) s")
        }
        if let error = answer?["error"] { throw BenchError("\(method): \(error)") }
        return answer!["result"] ?? .null
    }

    func waitForWorkers(_ count: Int) throws {
        let deadline = monotonicSeconds() + 30
        while monotonicSeconds() < deadline {
            if let workers = try call("workers.list", "{}")["workers"]?.arrayValue, workers.count >= count { return }
            usleep(5_000)
        }
        throw BenchError("workers did not connect")
    }

    func completedTasks() throws -> Int {
        Int(try call("stats", "{}")["tasks"]?["completed"]?.int64Value ?? 0)
    }
}

/// A set of worker processes of one kind: `swift` (the library's Worker, handlers inline), `swift-pool` (the same,
/// handlers on the global executor), `swift-raw`, or `python`.
struct WorkerPool {
    let children: [Child]

    init(kind: String, count: Int, port: Int, concurrency: Int, context: Context) throws {
        children = try (0..<count).map { i in
            switch kind {
            case "python":
                return try Child(
                    "/usr/bin/env",
                    [
                        "python3", context.root + "/tools/bench-python/flowline_worker.py",
                        "--port", "\(port)", "--name", "py\(i)", "--concurrency", "\(concurrency)",
                    ],
                    environment: ["PYTHONPATH": context.root + "/tools/python"]
                )
            default:
                let arguments = [
                    "--worker", ["swift-raw": "raw", "swift-pool": "library-pool"][kind] ?? "library",
                    "--port", "\(port)",
                    "--name", "\(kind)\(i)", "--concurrency", "\(concurrency)",
                ]
                // For profiling the worker side by hand, e.g. a script that execs valgrind --tool=callgrind "$@".
                if let wrapper = ProcessInfo.processInfo.environment["FLOWLINE_BENCH_WORKER_WRAPPER"] {
                    return try Child(wrapper, [context.benchBinary] + arguments)
                }
                return try Child(context.benchBinary, arguments)
            }
        }
    }

    /// Tells every worker to report and exit; returns their tallies.
    func finish() -> [(completed: Int, lastNanos: UInt64, arrivals: [UInt64])] {
        children.map { child in
            let out = child.finish()
            guard let line = out.split(separator: "\n").last(where: { $0.hasPrefix("{") }), let json = parseLine(line)
            else {
                return (0, 0, [])
            }
            return (
                Int(json["completed"]?.int64Value ?? 0), UInt64(json["last_ns"]?.int64Value ?? 0),
                (json["arrivals"]?.arrayValue ?? []).compactMap { $0.int64Value.map(UInt64.init) }
            )
        }
    }
}

/// W1: `tasks` single-task workflows submitted on one connection, pipelined (up to `window` in flight), done by
/// `workers` worker processes: tasks per second from the first submit to the last completion.
func w1(port: Int, workerKind: String, options: Options, context: Context) throws -> Double {
    let client = try RPCClient(port: port)
    let pool = try WorkerPool(
        kind: workerKind,
        count: options.workers,
        port: port,
        concurrency: options.concurrency,
        context: context
    )
    try client.waitForWorkers(options.workers)
    var document = #"{"name":"noop","tasks":[{"id":"t","handler":"noop"}]}"#
    if let limit = options.w1Limit {
        var set = false
        client.queue("limit.set", #"{"key":"\#(limit.key)","concurrency":\#(limit.concurrency)}"#) { _ in set = true }
        client.peer.flush()
        guard run(client.loop, seconds: 30, until: { set }) else { throw BenchError("W1: limit.set not answered") }
        document = #"{"name":"noop","tasks":[{"id":"t","handler":"noop","limits":["\#(limit.key)"]}]}"#
    }
    var acknowledged = 0
    var sent = 0
    let started = monotonicNanos()
    let submitted = run(client.loop, seconds: 600, afterEachTurn: { client.peer.flush() }) {
        while sent < options.tasks && sent - acknowledged < options.window {
            client.queue("workflow.submit", document) { _ in
                acknowledged += 1
            }
            sent += 1
        }
        client.peer.flush()
        return acknowledged >= options.tasks
    }
    guard submitted else { throw BenchError("W1: submits not acknowledged") }
    // Completion is read from the workers' own clocks; `stats` (per-state counters, O(states)) only tells when to
    // ask them.
    let deadline = monotonicSeconds() + 600
    while try client.completedTasks() < options.tasks {
        guard monotonicSeconds() < deadline else { throw BenchError("W1 did not finish") }
        usleep(250_000)
    }
    let tallies = pool.finish()
    let done = tallies.map(\.completed).reduce(0, +)
    guard done >= options.tasks else { throw BenchError("W1: workers report \(done) of \(options.tasks)") }
    let last = tallies.map(\.lastNanos).max() ?? started
    return Double(options.tasks) / (Double(last - started) / 1e9)
}

/// Submits `document` (which has an `id`) and pipelines its `workflow.wait`; returns the record and the seconds
/// from sending to the wait's answer.
func submitAndWait(_ client: RPCClient, id: String, document: String) throws -> (JSON, Double) {
    var record: JSON?
    let started = monotonicSeconds()
    client.queue("workflow.submit", document) { answer in
        if answer["error"] != nil { record = answer }
    }
    client.queue("workflow.wait", #"{"workflow_id":"\#(id)","timeout_s":600}"#) { record = $0 }
    client.peer.flush()
    guard run(client.loop, seconds: 600, until: { record != nil }) else { throw BenchError("\(id): no answer") }
    let seconds = monotonicSeconds() - started
    guard let result = record?["result"], result["state"] == .string("completed") else {
        throw BenchError("\(id) did not complete: \(record.map { "\($0)".prefix(500) } ?? "")")
    }
    return (result, seconds)
}

/// W2: split → `fanout` parallel parts → combine (which receives every part's result): seconds end to end.
func w2(port: Int, options: Options, context: Context) throws -> Double {
    let client = try RPCClient(port: port)
    let pool = try WorkerPool(
        kind: "swift",
        count: options.workers,
        port: port,
        concurrency: options.concurrency,
        context: context
    )
    try client.waitForWorkers(options.workers)
    let parts = (0..<options.fanout).map { #"{"id":"p\#($0)","handler":"part","input":{"i":\#($0)},"deps":["split"]}"# }
    let deps = (0..<options.fanout).map { #""p\#($0)""# }.joined(separator: ",")
    let document =
        #"{"name":"fanout","id":"w2","tasks":[{"id":"split","handler":"noop"},\#(parts.joined(separator: ",")),{"id":"combine","handler":"combine","deps":[\#(deps)]}]}"#
    let (record, seconds) = try submitAndWait(client, id: "w2", document: document)
    _ = pool.finish()
    guard record["result"]?["combine"]?.int64Value == Int64(options.fanout) else {
        throw BenchError("W2: combine did not receive \(options.fanout) results: \(record["result"] ?? .null)")
    }
    return seconds
}

/// W3: a chain of `chain` tasks, each passing its result on: milliseconds per step (one task.run arriving at the
/// worker to the next), p50 and p99.
func w3(port: Int, options: Options, context: Context) throws -> (p50: Double, p99: Double, mean: Double) {
    let client = try RPCClient(port: port)
    let pool = try WorkerPool(kind: "swift", count: 1, port: port, concurrency: 1, context: context)
    try client.waitForWorkers(1)
    let tasks = (0..<options.chain).map { i in
        #"{"id":"t\#(i)","handler":"step"\#(i == 0 ? "" : #","deps":["t\#(i - 1)"]"#)}"#
    }
    let document = #"{"name":"chain","id":"w3","tasks":[\#(tasks.joined(separator: ","))]}"#
    let (record, _) = try submitAndWait(client, id: "w3", document: document)
    let arrivals = pool.finish()[0].arrivals
    guard record["result"]?["t\(options.chain - 1)"]?.int64Value == Int64(options.chain),
        arrivals.count == options.chain
    else {
        throw BenchError("W3: chain result \(record["result"] ?? .null), \(arrivals.count) arrivals")
    }
    return summarize(zip(arrivals.dropFirst(), arrivals).map { Double($0 - $1) / 1e6 })
}

func summarize(_ values: [Double]) -> (p50: Double, p99: Double, mean: Double) {
    let sorted = values.sorted()
    return (
        sorted[sorted.count / 2], sorted[min(sorted.count - 1, sorted.count * 99 / 100)],
        sorted.reduce(0, +) / Double(sorted.count)
    )
}
