import FlowlineProtocol
import FlowlineTestSupport
import FlowlineUV
import Foundation

// Restart time with a big journal (issue #6): fills a real flowlined with `finished` completed single-task
// workflows and `running` ones whose task waits on a queue nobody serves, then restarts it twice — after a
// SIGKILL (recovery from the last periodic checkpoint plus the events after it) and after a clean SIGTERM
// (a fresh checkpoint) — and once more with checkpoints disabled (a replay of every event), timing each
// from process start to the `flowlined listening on` line.
//   tools/recovery-bench [--finished 100000] [--running 10000]

func seconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

func option(_ name: String, _ fallback: Int) -> Int {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count, let value = Int(args[i + 1]) else { return fallback }
    return value
}
let finished = option("--finished", 100_000)
let running = option("--running", 10_000)

func lines(_ text: String) -> [UInt8] { Array(text.utf8) + [10] }

/// Submits every workflow pipelined and completes the `finished` ones with a no-op worker.
func fill(port: Int, finished: Int, running: Int) throws {
    let loop = try EventLoop()
    var connected: [TCPConnection] = []
    for _ in 0..<2 {
        var result: Result<TCPConnection, UVError>?
        TCPConnection.connect(loop: loop, host: "127.0.0.1", port: port) { result = $0 }
        while result == nil { loop.runOnce(wait: true) }
        connected.append(try result!.get())
    }
    let (client, worker) = (connected[0], connected[1])
    var clientFramer = LineFramer(maxLineBytes: 1 << 20)
    var workerFramer = LineFramer(maxLineBytes: 1 << 20)
    var acknowledged = 0
    var completed = 0
    client.onRead = { bytes in
        for frame in clientFramer.feed(bytes) where frame != .tooLong { acknowledged += 1 }
    }
    worker.onRead = { bytes in
        var out: [UInt8] = []
        for case .line(let line) in workerFramer.feed(bytes) {
            guard let message = try? JSONParser.parse(line) else { continue }
            if let lease = message["params"]?["lease"]?.stringValue {
                out += lines(
                    #"{"jsonrpc":"2.0","id":1,"method":"task.complete","params":{"lease":"\#(lease)","result":null}}"#
                )
            } else if message["result"] != nil {
                completed += 1
            }
        }
        if !out.isEmpty { worker.write(out) }
    }
    client.startReading()
    worker.startReading()
    worker.write(
        lines(
            #"{"jsonrpc":"2.0","id":0,"method":"hello","params":{"role":"worker","name":"w","queues":["done"],"concurrency":512,"protocol":1}}"#
        )
    )
    let total = finished + running
    var sent = 0
    let timer = try Timer(loop: loop)
    timer.start(afterMilliseconds: 10, repeatMilliseconds: 10) {}
    while acknowledged < total || completed < finished + 1 {
        var batch: [UInt8] = []
        while sent < total && sent - acknowledged < 2000 {
            let queue = sent < finished ? "done" : "idle"
            batch += lines(
                #"{"jsonrpc":"2.0","id":\#(sent + 1),"method":"workflow.submit","params":{"name":"r","id":"r-\#(sent)","tasks":[{"id":"t","handler":"noop","queue":"\#(queue)"}]}}"#
            )
            sent += 1
        }
        if !batch.isEmpty { client.write(batch) }
        loop.runOnce(wait: true)
    }
    timer.close()
    client.close()
    worker.close()
}

func restart(_ directory: String, _ extra: [String] = []) throws -> (seconds: Double, daemon: DaemonProcess) {
    let start = seconds()
    let daemon = try DaemonProcess(data: directory, sync: "full", extraArguments: extra)
    return (seconds() - start, daemon)
}

let temp = try TemporaryDirectory("flowline-recovery")
let data = temp.path + "/data"
let daemon = try DaemonProcess(data: data, sync: "none")
let filling = seconds()
try fill(port: daemon.port, finished: finished, running: running)
print("filled: \(finished) finished + \(running) running workflows in \(String(format: "%.1f", seconds() - filling)) s")
let bytes = (try? FileManager.default.attributesOfItem(atPath: data + "/data.mdb")[.size] as? Int) ?? 0
print("journal: \(bytes / 1_048_576) MiB")
daemon.crash()
let (killed, next) = try restart(data)
print(String(format: "restart after SIGKILL (last periodic checkpoint + events after it): %.3f s", killed))
next.stop()
let (clean, again) = try restart(data)
print(String(format: "restart after SIGTERM (checkpoint written at shutdown):              %.3f s", clean))
again.crash()
print(
    #"{"figure":"restart_after_sigkill_s","finished":\#(finished),"running":\#(running),"value":\#(String(format: "%.3f", killed))}"#
)
print(
    #"{"figure":"restart_after_sigterm_s","finished":\#(finished),"running":\#(running),"value":\#(String(format: "%.3f", clean))}"#
)
