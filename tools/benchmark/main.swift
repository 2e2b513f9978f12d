import FlowlineProtocol
import FlowlineTestSupport
import FlowlineUV
import Foundation

// The baseline benchmark of issue #2 (tools/bench runs it): one process drives a real flowlined with one
// client connection and N worker connections on one libuv loop; workers answer task.run at once.
//   W1: `tasks` single-task workflows, submits pipelined, done by the workers: tasks/s from the first submit
//       to the last durable completion (the response to the last task.complete).
//   W3: one chain of `chain` tasks: milliseconds per step (task.run to the next task.run), p50 and p99.

func monotonicSeconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

struct Options {
    var tasks = 10_000
    var chain = 200
    var workers = 2
    var syncModes = ["full", "none"]

    init(_ args: [String]) {
        var i = 0
        while i < args.count {
            let value = i + 1 < args.count ? args[i + 1] : ""
            switch args[i] {
            case "--tasks": tasks = Int(value) ?? tasks
            case "--chain": chain = Int(value) ?? chain
            case "--workers": workers = Int(value) ?? workers
            case "--sync": syncModes = value.split(separator: ",").map(String.init)
            default: break
            }
            i += 2
        }
    }
}

/// A worker connection that completes every task.run at once, with a request so that the response marks
/// the completion as durable.
final class NoOpWorker {
    let peer: Peer
    var completed = 0
    var onRun: (JSON) -> Void = { _ in }
    private var nextID: Int64 = 1

    init(_ loop: EventLoop, port: Int, name: String, concurrency: Int) throws {
        peer = try Peer.connect(loop, port: port)
        peer.queue(Array(#"{"jsonrpc":"2.0","id":0,"method":"hello","params":{"role":"worker","name":"\#(name)","queues":["default"],"concurrency":\#(concurrency),"protocol":1}}"#.utf8) + [10])
        peer.flush()
        peer.onMessage = { [unowned self] message in
            if message["method"] == .string("task.run"), let lease = message["params"]?["lease"]?.stringValue {
                self.onRun(message)
                self.nextID += 1
                self.peer.queue(Array(#"{"jsonrpc":"2.0","id":\#(self.nextID),"method":"task.complete","params":{"lease":"\#(lease)","result":null}}"#.utf8) + [10])
                self.peer.flush()
            } else if message["result"] != nil, message["id"] != .int(0) {
                self.completed += 1
            }
        }
    }
}

func w1(port: Int, options: Options) throws -> Double {
    let loop = try EventLoop()
    let workers = try (0..<options.workers).map { try NoOpWorker(loop, port: port, name: "w\($0)", concurrency: 256) }
    let client = try Peer.connect(loop, port: port)
    var acknowledged = 0
    client.onMessage = { if $0["result"] != nil { acknowledged += 1 } }
    let started = monotonicSeconds()
    var sent = 0
    // Pipelined: keep up to 1,000 submits in flight.
    let done = run(loop, seconds: 300) {
        while sent < options.tasks && sent - acknowledged < 1000 {
            client.queue(Array(#"{"jsonrpc":"2.0","id":\#(sent + 1),"method":"workflow.submit","params":{"name":"noop","tasks":[{"id":"t","handler":"noop"}]}}"#.utf8) + [10])
            sent += 1
        }
        client.flush()
        return workers.map(\.completed).reduce(0, +) >= options.tasks
    }
    precondition(done, "W1 did not finish in 300 s")
    return Double(options.tasks) / (monotonicSeconds() - started)
}

func w3(port: Int, options: Options) throws -> (p50: Double, p99: Double, mean: Double) {
    let loop = try EventLoop()
    let worker = try NoOpWorker(loop, port: port, name: "chain", concurrency: 1)
    var arrivals: [Double] = []
    worker.onRun = { _ in arrivals.append(monotonicSeconds()) }
    let client = try Peer.connect(loop, port: port)
    let tasks = (0..<options.chain).map { i in
        #"{"id":"t\#(i)","handler":"step"\#(i == 0 ? "" : #","deps":["t\#(i - 1)"]"#)}"#
    }
    client.queue(Array(#"{"jsonrpc":"2.0","id":1,"method":"workflow.submit","params":{"name":"chain","tasks":[\#(tasks.joined(separator: ","))]}}"#.utf8) + [10])
    client.flush()
    precondition(run(loop, seconds: 300) { worker.completed >= options.chain }, "W3 did not finish")
    let steps = zip(arrivals.dropFirst(), arrivals).map { ($0 - $1) * 1000 }.sorted()
    return (steps[steps.count / 2], steps[min(steps.count - 1, steps.count * 99 / 100)], steps.reduce(0, +) / Double(steps.count))
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores; tasks \(options.tasks), chain \(options.chain), workers \(options.workers)")
print(String(repeating: "-", count: 72))
for sync in options.syncModes {
    for (name, body) in [("W1", 0), ("W3", 1)] {
        let directory = try TemporaryDirectory("flowline-bench")
        let daemon = try DaemonProcess(data: directory.path + "/data", sync: sync)
        if body == 0 {
            let rate = try w1(port: daemon.port, options: options)
            print("\(name) sync=\(sync)  \(Int(rate)) tasks/s  (\(options.tasks) single-task workflows, \(options.workers) workers)")
            print(#"{"figure":"w1_tasks_per_s","sync":"\#(sync)","value":\#(Int(rate))}"#)
        } else {
            let r = try w3(port: daemon.port, options: options)
            print(String(format: "%@ sync=%@  p50 %.3f ms/step  p99 %.3f ms/step  mean %.3f  (%d-task chain)", name, sync, r.p50, r.p99, r.mean, options.chain))
            print(#"{"figure":"w3_ms_per_step_p50","sync":"\#(sync)","value":\#(String(format: "%.3f", r.p50))}"#)
        }
        daemon.stop()
    }
}
