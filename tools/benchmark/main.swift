import FlowlineJournal
import FlowlineProtocol
import Foundation

// Issue "Benchmarks against the physical limit": tools/bench runs this. One run measures, on this machine and in
// this process tree, W1 (independent no-op tasks), W2 (split → fan-out → combine), W3 (a chain), recovery,
// memory per pending task, and the limits beside them (raw LMDB commits, JSON-lines ping-pong, raw journal
// scan); with --compare also beanstalkd running W1–W3 through a Python client. It prints a table and one JSON
// line per figure. `--worker` and `--echo` are the child processes it starts.

struct Options {
    var tasks = 10_000
    var chain = 200
    var fanout = 1_000
    var workers = 2
    var concurrency = 256
    var pythonConcurrency = 256  // as the Swift workers: the Python worker starts threads only as needed
    var window = 1_000
    var w1Runs = 3
    var syncModes = ["full", "none"]
    var w1Workers = ["swift", "swift-pool", "python", "swift-raw"]
    var recoveryEvents = 1_000_000
    var memoryWorkflows = 1_000
    var memoryTasks = 1_000
    var only: Set<String> = ["limits", "w1", "w2", "w3", "recovery", "memory"]
    var compare = false
    var beanstalkFsync: [String] = ["default", "0"]
    /// `--w1-limit KEY:CONCURRENCY`: W1 with every task under the limit key `KEY`, set to that concurrency first
    /// (SPEC §11), to measure what limits cost on the dispatch path.
    var w1Limit: (key: String, concurrency: Int)?

    init(_ args: [String]) throws {
        var i = 0
        func value() throws -> String {
            i += 1
            guard i < args.count else { throw BenchError("\(args[i - 1]) needs a value") }
            return args[i]
        }
        while i < args.count {
            switch args[i] {
            case "--tasks": tasks = Int(try value()) ?? tasks
            case "--chain": chain = Int(try value()) ?? chain
            case "--fanout": fanout = Int(try value()) ?? fanout
            case "--workers": workers = Int(try value()) ?? workers
            case "--concurrency": concurrency = Int(try value()) ?? concurrency
            case "--python-concurrency": pythonConcurrency = Int(try value()) ?? pythonConcurrency
            case "--window": window = Int(try value()) ?? window
            case "--w1-runs": w1Runs = Int(try value()) ?? w1Runs
            case "--sync": syncModes = try value().split(separator: ",").map(String.init)
            case "--w1-workers": w1Workers = try value().split(separator: ",").map(String.init)
            case "--recovery-events": recoveryEvents = Int(try value()) ?? recoveryEvents
            case "--memory-workflows": memoryWorkflows = Int(try value()) ?? memoryWorkflows
            case "--memory-tasks": memoryTasks = Int(try value()) ?? memoryTasks
            case "--only": only = Set(try value().split(separator: ",").map(String.init))
            case "--compare": compare = true
            case "--beanstalk-fsync": beanstalkFsync = try value().split(separator: ",").map(String.init)
            case "--w1-limit":
                let parts = try value().split(separator: ":")
                guard parts.count == 2, let concurrency = Int(parts[1]) else {
                    throw BenchError("--w1-limit takes KEY:CONCURRENCY")
                }
                w1Limit = (String(parts[0]), concurrency)
            case "--quick":
                tasks = 3_000
                chain = 100
                recoveryEvents = 200_000
                memoryWorkflows = 200
            default: throw BenchError("unknown option \(args[i])")
            }
            i += 1
        }
    }
}

struct Context {
    let root: String
    let benchBinary: String
    let flowlined: String
    let scratch: String
}

/// One measured figure. `higherIsBetter` says how ratios read: a ratio is always "fraction of the limit reached"
/// (≤ 1) and "Flowline's speedup over beanstalkd" (> 1 is Flowline ahead).
struct Figure {
    let name: String
    let config: String
    let value: Double
    let unit: String
    var limit: Double?
    var limitNote = ""
    var target = ""
    var meetsTarget: Bool?
    var higherIsBetter = true
    var beanstalk: Double?

    var ratioToLimit: Double? {
        guard let limit, limit > 0, value > 0 else { return nil }
        return higherIsBetter ? value / limit : limit / value
    }
    var speedupOverBeanstalk: Double? {
        guard let beanstalk, beanstalk > 0, value > 0 else { return nil }
        return higherIsBetter ? value / beanstalk : beanstalk / value
    }
}

func format(_ v: Double) -> String {
    if v >= 10_000 { return String(Int(v.rounded())) }
    if v >= 100 { return String(format: "%.0f", v) }
    if v >= 1 { return String(format: "%.2f", v) }
    return String(format: "%.4f", v)
}

func jsonNumber(_ v: Double?) -> String {
    guard let v, v.isFinite else { return "null" }
    return String(format: "%.6g", v)
}

func jsonString(_ s: String) -> String {
    var w = JSONWriter(capacity: s.utf8.count + 2)
    w.string(s)
    return String(decoding: w.bytes, as: UTF8.self)
}

func log(_ text: String) {
    FileHandle.standardError.write(Data("bench: \(text)\n".utf8))
}

// MARK: - Child modes

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "--worker" {
    var named: [String: String] = [:]
    for i in stride(from: 2, to: arguments.count - 1, by: 2) { named[arguments[i]] = arguments[i + 1] }
    try runWorkerProcess(
        kind: arguments.count > 1 ? arguments[1] : "library",
        port: Int(named["--port"] ?? "") ?? 7420,
        name: named["--name"] ?? "bench",
        concurrency: Int(named["--concurrency"] ?? "") ?? 256
    )
}
if arguments.first == "--echo" { try runEchoServer() }
if arguments.first == "--gen-journal", arguments.count == 3, let events = Int(arguments[2]) {
    // For profiling recovery by hand: `flowline-bench --gen-journal DIR EVENTS`.
    print(try generateJournal(directory: arguments[1], events: events))
    exit(0)
}

// MARK: - Driver

let usage = """
    usage: tools/bench [--only limits,w1,w2,w3,recovery,memory] [--quick] [--compare] [--sync full,none]
                       [--tasks N] [--chain N] [--fanout N] [--workers N] [--concurrency N] [--python-concurrency N]
                       [--window N] [--w1-runs 3] [--w1-workers swift,swift-pool,python,swift-raw] [--recovery-events N]
                       [--memory-workflows N] [--memory-tasks N] [--beanstalk-fsync default,0]
    """
if arguments.contains("--help") || arguments.contains("-h") {
    print(usage)
    exit(0)
}
let options: Options
do { options = try Options(arguments) } catch {
    FileHandle.standardError.write(Data("bench: \(error)\n\(usage)\n".utf8))
    exit(2)
}
let executable =
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
let environment = ProcessInfo.processInfo.environment
let context = Context(
    root: environment["FLOWLINE_ROOT"] ?? FileManager.default.currentDirectoryPath,
    benchBinary: executable,
    flowlined: environment["FLOWLINED_BIN"]
        ?? URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("flowlined").path,
    scratch: NSTemporaryDirectory() + "flowline-bench-\(getpid())"
)
try FileManager.default.createDirectory(atPath: context.scratch, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: context.scratch) }
var dataDirectories = 0
@MainActor func freshData() -> String {
    dataDirectories += 1
    return context.scratch + "/data\(dataDirectories)"
}
/// Deletes the data directories of finished runs (all but `kept`), then flushes what is still dirty in the page
/// cache: with --sync none the kernel writes a journal back about 30 s later, in the middle of whatever runs then,
/// and a figure must not pay for an earlier run's writeback. Deleting first means that writeback never happens.
@MainActor func settle(keeping kept: Set<String> = []) {
    for n in stride(from: 1, through: dataDirectories, by: 1) {
        let path = context.scratch + "/data\(n)"
        if !kept.contains(path) { try? FileManager.default.removeItem(atPath: path) }
    }
    sync()
}

var figures: [Figure] = []
@MainActor func record(_ figure: Figure) {
    figures.append(figure)
    log("\(figure.name) [\(figure.config)] = \(format(figure.value)) \(figure.unit)")
}

// Limits first: the other figures are read against them.
var commitRate: [String: Double] = [:]
var rttMicros = 0.0
var echoLinesPerSecond = 0.0
if !options.only.isDisjoint(with: ["limits", "w1", "w2", "w3"]) {
    for sync in options.syncModes {
        let rate = try lmdbCommitsPerSecond(directory: freshData(), sync: sync == "full" ? .full : .none, seconds: 2)
        commitRate[sync] = rate
        record(
            Figure(
                name: "limit_lmdb_commits_per_s",
                config: "sync=\(sync), 1 record/commit",
                value: rate,
                unit: "commits/s"
            )
        )
    }
    if options.syncModes.contains("full") {
        // LMDB's own default, for comparison: each commit's meta page synced before the next commit starts.
        let rate = try lmdbCommitsPerSecond(directory: freshData(), sync: .full, seconds: 2, durableEach: true)
        record(
            Figure(
                name: "limit_lmdb_durable_commits_per_s",
                config: "sync=full, 1 record/commit, meta page synced too",
                value: rate,
                unit: "commits/s"
            )
        )
    }
    let syncs = try fdatasyncPerSecond(directory: context.scratch, seconds: 2)
    record(
        Figure(
            name: "limit_fdatasync_per_s",
            config: "128-byte pwrite + fdatasync, same disk",
            value: syncs,
            unit: "syncs/s"
        )
    )
    let ping = try pingPong(context: context, roundTrips: 20_000, pipelined: 300_000, window: options.window)
    rttMicros = ping.p50
    echoLinesPerSecond = ping.linesPerSecond
    record(
        Figure(
            name: "limit_pingpong_rtt_us_p50",
            config: "JSON lines, loopback, parse+answer",
            value: ping.p50,
            unit: "µs",
            higherIsBetter: false
        )
    )
    record(
        Figure(
            name: "limit_pingpong_rtt_us_p99",
            config: "JSON lines, loopback, parse+answer",
            value: ping.p99,
            unit: "µs",
            higherIsBetter: false
        )
    )
    record(
        Figure(
            name: "limit_pingpong_lines_per_s",
            config: "pipelined, window \(options.window)",
            value: ping.linesPerSecond,
            unit: "lines/s"
        )
    )
}

// A task crosses loopback three times (submit, task.run, task.complete), each with the JSON-lines work of one
// ping-pong line: the transport's bound on W1 whatever the journal does (group commit amortizes the syncs).
let w1Limit = echoLinesPerSecond / 3
@MainActor func commitSeconds(_ sync: String) -> Double { commitRate[sync].map { 1 / $0 } ?? 0 }

if options.only.contains("w1") {
    for sync in options.syncModes {
        for kind in options.w1Workers {
            var opts = options
            if kind == "python" { opts.concurrency = options.pythonConcurrency }
            // One W1 run takes a fraction of a second, so a scheduling hiccup on this shared box moves it by a third;
            // each run has a fresh daemon and workers, and the figure is their median.
            var rates: [Double] = []
            for _ in 0..<max(1, options.w1Runs) {
                settle()
                let daemon = try BenchDaemon(binary: context.flowlined, data: freshData(), sync: sync)
                defer { daemon.stop() }
                rates.append(try w1(port: daemon.port, workerKind: kind, options: opts, context: context))
            }
            let rate = rates.sorted()[rates.count / 2]
            let each = rates.map { String(Int($0.rounded())) }.joined(separator: "/")
            let runs = rates.count == 1 ? "" : ", median of \(each)"
            var figure = Figure(
                name: "w1_tasks_per_s",
                config: "sync=\(sync), \(options.workers)×\(kind) workers\(runs)",
                value: rate,
                unit: "tasks/s",
                limit: w1Limit,
                limitNote: "ping-pong lines/s ÷ 3"
            )
            if sync == "full" && kind == "swift" {
                figure.target = "≥ 30000"
                figure.meetsTarget = rate >= 30_000
            }
            // Issue #7: at least beanstalkd's W1 with its default binlog, measured in the same run (--compare).
            if sync == "full" && kind == "python" { figure.target = "≥ beanstalkd default binlog (--compare)" }
            record(figure)
        }
    }
}

if options.only.contains("w2") {
    for sync in options.syncModes {
        settle()
        let daemon = try BenchDaemon(binary: context.flowlined, data: freshData(), sync: sync)
        defer { daemon.stop() }
        let seconds = try w2(port: daemon.port, options: options, context: context)
        // Three dependency levels, each at least a commit and a round trip, plus the tasks at W1's bound.
        let limit = 3 * (commitSeconds(sync) + rttMicros / 1e6) + Double(options.fanout + 2) / max(w1Limit, 1)
        var figure = Figure(
            name: "w2_seconds",
            config: "sync=\(sync), split→\(options.fanout)→combine, \(options.workers)×swift",
            value: seconds,
            unit: "s",
            limit: limit,
            limitNote: "3×(commit+RTT) + tasks at W1 limit",
            higherIsBetter: false
        )
        if sync == "full" {
            figure.target = "≤ 0.1"
            figure.meetsTarget = seconds <= 0.1
        }
        record(figure)
    }
}

if options.only.contains("w3") {
    for sync in options.syncModes {
        settle()
        let data = freshData()
        let daemon = try BenchDaemon(binary: context.flowlined, data: data, sync: sync)
        defer { daemon.stop() }
        // This disk's sync latency swings several-fold from minute to minute (a shared virtual disk), so the
        // commit limit is measured again right beside the chain.
        let commits = try lmdbCommitsPerSecond(directory: freshData(), sync: sync == "full" ? .full : .none, seconds: 1)
        record(
            Figure(
                name: "limit_lmdb_commits_per_s",
                config: "sync=\(sync), 1 record/commit, beside W3",
                value: commits,
                unit: "commits/s"
            )
        )
        settle(keeping: [data])
        let r = try w3(port: daemon.port, options: options, context: context)
        // A step is at least one commit (the completion) and one round trip (task.complete in, task.run out).
        let limit = 1e3 / commits + rttMicros / 1e3
        let bound = sync == "full" ? 0.4 : 0.1
        record(
            Figure(
                name: "w3_ms_per_step_p50",
                config: "sync=\(sync), chain of \(options.chain)",
                value: r.p50,
                unit: "ms",
                limit: limit,
                limitNote: "1 commit + 1 RTT",
                target: "≤ \(bound)",
                meetsTarget: r.p50 <= bound,
                higherIsBetter: false
            )
        )
        record(
            Figure(
                name: "w3_ms_per_step_p99",
                config: "sync=\(sync), chain of \(options.chain)",
                value: r.p99,
                unit: "ms",
                limit: limit,
                limitNote: "1 commit + 1 RTT",
                higherIsBetter: false
            )
        )
    }
}

if options.only.contains("recovery") {
    let data = freshData()
    let t0 = monotonicSeconds()
    let events = try generateJournal(directory: data, events: options.recoveryEvents)
    log("generated \(events) events in \(format(monotonicSeconds() - t0)) s")
    // The generator commits without syncing; its pages go to disk now, not during the replay being timed.
    settle(keeping: [data])
    let scan = try rawScanRate(directory: data)
    let empty = try BenchDaemon(binary: context.flowlined, data: freshData(), sync: "full")
    empty.stop()
    // Replay from seq 1: no checkpoint is written, and the daemon is killed so that none is written at the end.
    let replay = try BenchDaemon(
        binary: context.flowlined,
        data: data,
        sync: "full",
        extra: ["--checkpoint-events", "2000000000", "--checkpoint-interval", "1000000s"],
        logLevel: "info"
    )
    let replayRSS = residentBytes(of: replay.pid)
    replay.child.signal(SIGKILL)
    replay.child.finish()
    guard replay.stderr.contains("events=\(events)") || replay.stderr.contains("\(events)") else {
        throw BenchError("recovery replayed an unexpected count: \(replay.stderr)")
    }
    let replaySeconds = replay.startToListening
    record(
        Figure(
            name: "recovery_events_per_s",
            config: "\(events) events from seq 1 (start-to-listening incl. exec)",
            value: Double(events) / replaySeconds,
            unit: "events/s",
            limit: scan.perSecond,
            limitNote: "raw cursor scan",
            target: "≥ 1000000",
            meetsTarget: Double(events) / replaySeconds >= 1_000_000
        )
    )
    record(
        Figure(
            name: "recovery_start_to_listening_s",
            config: "\(events) events, no checkpoint",
            value: replaySeconds,
            unit: "s",
            limit: empty.startToListening,
            limitNote: "empty journal",
            higherIsBetter: false
        )
    )
    record(
        Figure(
            name: "recovery_resident_bytes",
            config: "after replaying \(events) events",
            value: Double(replayRSS.rss),
            unit: "bytes",
            higherIsBetter: false
        )
    )
    // Default checkpointing: the first start replays and writes a checkpoint; the next one loads it.
    let first = try BenchDaemon(binary: context.flowlined, data: data, sync: "full")
    first.stop()
    record(
        Figure(
            name: "recovery_start_to_listening_s",
            config: "default flags, first start (replay + write checkpoint)",
            value: first.startToListening,
            unit: "s",
            limit: empty.startToListening,
            limitNote: "empty journal",
            higherIsBetter: false
        )
    )
    let second = try BenchDaemon(binary: context.flowlined, data: data, sync: "full", logLevel: "info")
    second.stop()
    record(
        Figure(
            name: "recovery_start_to_listening_s",
            config: "default flags, restart from checkpoint",
            value: second.startToListening,
            unit: "s",
            limit: empty.startToListening,
            limitNote: "empty journal",
            higherIsBetter: false
        )
    )
    try? FileManager.default.removeItem(atPath: data)
}

if options.only.contains("memory") {
    settle()
    let daemon = try BenchDaemon(binary: context.flowlined, data: freshData(), sync: "full")
    defer { daemon.stop() }
    let client = try RPCClient(port: daemon.port)
    _ = try client.call("stats", "{}")
    let before = residentBytes(of: daemon.pid)
    let tasks = (0..<options.memoryTasks).map { #"{"id":"t\#($0)","handler":"noop","queue":"idle"}"# }.joined(
        separator: ","
    )
    var acknowledged = 0
    var sent = 0
    var failures = 0
    _ = run(
        client.loop,
        seconds: 1200,
        afterEachTurn: { client.peer.flush() },
        until: {
            while sent < options.memoryWorkflows && sent - acknowledged < 16 {
                client.queue("workflow.submit", #"{"name":"pending","tasks":[\#(tasks)]}"#) { answer in
                    acknowledged += 1
                    if answer["error"] != nil { failures += 1 }
                }
                sent += 1
            }
            client.peer.flush()
            return acknowledged >= options.memoryWorkflows
        }
    )
    guard failures == 0, acknowledged == options.memoryWorkflows else {
        throw BenchError("memory: \(failures) submits failed")
    }
    let ready = Int(try client.call("stats", "{}")["tasks"]?["ready"]?.int64Value ?? 0)
    usleep(300_000)
    let after = residentBytes(of: daemon.pid)
    let pending = options.memoryWorkflows * options.memoryTasks
    let perTask = Double(after.rss - before.rss) / Double(pending)
    let wireBytes = Double(tasks.utf8.count) / Double(options.memoryTasks)
    record(
        Figure(
            name: "memory_resident_bytes_per_pending_task",
            config: "\(pending) tasks queued (\(ready) ready), VmRSS delta",
            value: perTask,
            unit: "B/task",
            limit: wireBytes,
            limitNote: "the task's bytes on the wire",
            target: "≤ 1024",
            meetsTarget: perTask <= 1024,
            higherIsBetter: false
        )
    )
    record(
        Figure(
            name: "memory_anon_bytes_per_pending_task",
            config: "\(pending) tasks queued, RssAnon delta",
            value: Double(after.anon - before.anon) / Double(pending),
            unit: "B/task",
            limit: wireBytes,
            limitNote: "the task's bytes on the wire",
            higherIsBetter: false
        )
    )
}

// MARK: - beanstalkd

if options.compare {
    for fsync in options.beanstalkFsync {
        let script = context.root + "/tools/bench-python/beanstalk_bench.py"
        var args = [
            "python3", script, "--tasks", "\(options.tasks)", "--fanout", "\(options.fanout)", "--chain",
            "\(options.chain)",
            "--workers", "\(options.workers)",
        ]
        if fsync != "default" { args += ["--fsync-ms", fsync] }
        let child = try Child("/usr/bin/env", args, stderr: FileHandle.standardError)
        let out = child.finish(timeout: 900)
        for line in out.split(separator: "\n") where line.hasPrefix("{") {
            guard let json = parseLine(line), let name = json["figure"]?.stringValue,
                let value = json["value"]?.doubleValue ?? json["value"]?.int64Value.map(Double.init)
            else { continue }
            // Like against like: beanstalkd's default binlog does not fsync (compared with --sync none), `-f 0`
            // fsyncs every write (compared with --sync full).
            let sync = fsync == "default" ? "none" : fsync == "0" ? "full" : ""
            let flowlineName = [
                "w1_tasks_per_s": "w1_tasks_per_s", "w2_seconds": "w2_seconds",
                "w3_ms_per_step_p50": "w3_ms_per_step_p50",
            ][name]
            var figure = Figure(
                name: "beanstalkd_" + name,
                config: json["config"]?.stringValue ?? "",
                value: value,
                unit: json["unit"]?.stringValue ?? "",
                higherIsBetter: name.hasPrefix("w1")
            )
            figure.limitNote = "python client (greenstalk)"
            record(figure)
            // Flowline's figures against it: the Python-worker W1, and the Swift W2/W3.
            for i in figures.indices
            where figures[i].name == flowlineName && figures[i].config.hasPrefix("sync=\(sync),")
                && (name != "w1_tasks_per_s" || figures[i].config.contains("python")
                    || figures[i].config.contains("×swift "))
            {
                figures[i].beanstalk = value
            }
            // The target (issue #7) is not like against like: the Python-worker W1 with --sync full against
            // beanstalkd's default binlog.
            if name == "w1_tasks_per_s" && fsync == "default" {
                for i in figures.indices
                where figures[i].name == "w1_tasks_per_s" && figures[i].config.hasPrefix("sync=full,")
                    && figures[i].config.contains("python")
                {
                    figures[i].meetsTarget = figures[i].value >= value
                }
            }
        }
    }
}

// MARK: - Report

let load =
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(
        separator: " "
    ) ?? "?"
let cpu =
    (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?.split(separator: "\n")
    .first { $0.hasPrefix("model name") }?.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "?"
print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(cpu); load average after run: \(load)")
let header = [
    "figure", "config", "value", "unit", "limit", "of limit", "target", "ok", "vs beanstalkd (same durability)",
]
var rows: [[String]] = [header]
for f in figures {
    rows.append([
        f.name, f.config, format(f.value), f.unit,
        f.limit.map { "\(format($0)) (\(f.limitNote))" } ?? (f.limitNote.isEmpty ? "" : f.limitNote),
        f.ratioToLimit.map { String(format: "%.2f", $0) } ?? "", f.target,
        f.meetsTarget.map { $0 ? "yes" : "NO" } ?? "",
        f.speedupOverBeanstalk.map { String(format: "%.2f×", $0) } ?? "",
    ])
}
let widths = header.indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
for (i, row) in rows.enumerated() {
    print(
        "| "
            + row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(
                separator: " | "
            ) + " |"
    )
    if i == 0 { print("|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|") }
}
for f in figures {
    print(
        #"{"figure":\#(jsonString(f.name)),"config":\#(jsonString(f.config)),"value":\#(jsonNumber(f.value)),"unit":\#(jsonString(f.unit)),"limit":\#(jsonNumber(f.limit)),"ratio_to_limit":\#(jsonNumber(f.ratioToLimit)),"target":\#(jsonString(f.target)),"meets_target":\#(f.meetsTarget.map { "\($0)" } ?? "null"),"beanstalkd":\#(jsonNumber(f.beanstalk)),"speedup_over_beanstalkd":\#(jsonNumber(f.speedupOverBeanstalk))}"#
    )
}
