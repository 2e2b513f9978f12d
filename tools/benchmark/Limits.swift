import FlowlineCore
import FlowlineJournal
import FlowlineProtocol
import FlowlineUV
import Foundation

/// Raw LMDB commits per second through the journal's own store (the daemon's wrapper, flags and key layout),
/// one small record per write transaction, for `seconds`. With `SyncMode.full` each commit syncs its data pages
/// and so the previous commit's meta page, as the daemon's commits back to back do; `durableEach` also syncs each
/// commit's own meta page before the next (two flushes per commit, LMDB's default).
func lmdbCommitsPerSecond(
    directory: String,
    sync: SyncMode,
    seconds: Double,
    durableEach: Bool = false
) throws -> Double {
    let store = try JournalStore(directory: directory, sync: sync)
    let record = (workflowID: "wf-000001", bytes: [UInt8](repeating: 0x61, count: 120))
    var count = 0
    let started = monotonicSeconds()
    var now = started
    while now - started < seconds {
        var batch = JournalBatch()
        batch.records = [record]
        _ = try store.commit(batch, durable: durableEach)
        count += 1
        if count % 16 == 0 { now = monotonicSeconds() }
    }
    return Double(count) / (monotonicSeconds() - started)
}

/// The disk itself: a 128-byte `pwrite` and `fdatasync` per iteration on a file in the scratch directory.
func fdatasyncPerSecond(directory: String, seconds: Double) throws -> Double {
    let path = directory + "/fdatasync-probe"
    let fd = open(path, O_CREAT | O_RDWR, 0o644)
    guard fd >= 0 else { throw BenchError("cannot open \(path)") }
    defer {
        close(fd)
        unlink(path)
    }
    let block = [UInt8](repeating: 0x62, count: 128)
    var count = 0
    let started = monotonicSeconds()
    while monotonicSeconds() - started < seconds {
        _ = block.withUnsafeBytes { pwrite(fd, $0.baseAddress, 128, off_t((count % 64) * 128)) }
        fdatasync(fd)
        count += 1
    }
    return Double(count) / (monotonicSeconds() - started)
}

/// A JSON-lines ping-pong over loopback with the `--echo` child: sequential round trips (microseconds, p50 and
/// p99) and pipelined lines per second (up to `window` in flight).
func pingPong(
    context: Context,
    roundTrips: Int,
    pipelined: Int,
    window: Int
) throws -> (p50: Double, p99: Double, linesPerSecond: Double) {
    let echo = try Child(context.benchBinary, ["--echo"])
    defer { echo.finish() }
    guard let line = echo.waitForLine(prefix: "echo listening on ", timeout: 10),
        let port = line.split(separator: ":").last.flatMap({ Int($0) })
    else { throw BenchError("echo server did not start") }
    let client = try RPCClient(port: port)
    let params = #"{"lease":"17","result":null}"#
    var rtts: [Double] = []
    for _ in 0..<roundTrips {
        let t0 = monotonicNanos()
        _ = try client.call("task.complete", params)
        rtts.append(Double(monotonicNanos() - t0) / 1e3)
    }
    var sent = 0
    var answered = 0
    let started = monotonicSeconds()
    _ = run(client.loop, seconds: 120, afterEachTurn: { client.peer.flush() }) {
        while sent < pipelined && sent - answered < window {
            client.queue("task.complete", params) { _ in answered += 1 }
            sent += 1
        }
        client.peer.flush()
        return answered >= pipelined
    }
    let rate = Double(pipelined) / (monotonicSeconds() - started)
    let s = summarize(rtts)
    return (s.p50, s.p99, rate)
}

/// The journal scanned with a cursor, records not decoded: the read side's limit for replay (events/s).
func rawScanRate(directory: String) throws -> (events: Int, perSecond: Double) {
    let store = try JournalStore(directory: directory, sync: .none, readOnly: true)
    var count = 0
    var bytes = 0
    let started = monotonicSeconds()
    try store.scan { _, record in
        count += 1
        bytes += record.count
        return true
    }
    return (count, Double(count) / (monotonicSeconds() - started))
}

/// Builds a journal of at least `events` events as the daemon would write them: a real `Coordinator` is driven
/// in-process (one worker, single-task workflows submitted, dispatched and completed), and each decision's events
/// are encoded with `EventCodec` and committed in batches, as the daemon's turns do. Returns the events written.
func generateJournal(directory: String, events target: Int) throws -> Int {
    let store = try JournalStore(directory: directory, sync: .none)
    var coordinator = Coordinator()
    var clock: Int64 = 1_790_000_000_000
    var request: UInt64 = 1
    let worker = WorkerID(1)
    var batch = JournalBatch()
    var written = 0
    func take(_ decision: Decision) -> [TaskRun] {
        for event in decision.events {
            batch.records.append((event.workflowID.rawValue, EventCodec.encode(event)))
        }
        return decision.effects.compactMap { if case .runTask(_, let run) = $0 { run } else { nil } }
    }
    _ = take(
        coordinator.handle(
            .connectWorker(worker, name: "gen", queues: ["default"], concurrency: 1 << 30),
            at: Instant(milliseconds: clock)
        )
    )
    while written + batch.records.count < target {
        // One "turn": 100 submits, then their completions.
        var runs: [TaskRun] = []
        for _ in 0..<100 {
            let spec = WorkflowSpec(name: "noop", tasks: [TaskSpec(id: "t", handler: "noop")])
            runs += take(
                coordinator.handle(.submit(spec, request: RequestID(request)), at: Instant(milliseconds: clock))
            )
            request += 1
        }
        clock += 1
        for run in runs {
            _ = take(
                coordinator.handle(
                    .complete(run.lease, result: .null, poll: nil, from: worker, request: RequestID(request)),
                    at: Instant(milliseconds: clock)
                )
            )
            request += 1
        }
        clock += 1
        written += batch.records.count
        _ = try store.commit(batch)
        batch = JournalBatch()
    }
    try store.flush()
    return written
}
