import ArgumentParser
import CMalloc
import FlowlineServer
import Foundation
import Logging

/// `flowlined`: flags → `DaemonConfiguration` → `Daemon.run()` (SPEC §5).
struct Flowlined: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flowlined",
        abstract: "The Flowline coordinator daemon.",
        version: "flowlined \(DaemonConfiguration.version)"
    )

    @Option(help: "HOST:PORT to listen on (localhost:7420, 0.0.0.0:7420, [::1]:7420); port 0 takes a free port.")
    var listen = "127.0.0.1:7420"
    @Option(help: "The data directory (the LMDB journal).")
    var data = "./flowline-data"
    @Option(help: "full: sync every commit to disk; none: do not (tests, benchmarks).")
    var sync = "full"
    @Option(
        help:
            "A file of tokens, one a line: TOKEN (full access) or ROLE TOKEN [QUEUE,...] with ROLE admin, client or worker."
    )
    var tokenFile: String?
    @Option(help: "Longest accepted line in bytes.")
    var maxLineBytes = 16_777_216
    @Option(help: "How long finished workflows are kept (e.g. 7d, 12h, 30m, 90s).")
    var retention = "7d"
    @Option(help: "How long an early future resolution is kept.")
    var futureRetention = "7d"
    @Option(help: "Write a checkpoint after this many events (and at least every --checkpoint-interval).")
    var checkpointEvents = 100_000
    @Option(help: "Longest time between checkpoints while anything changes (e.g. 30s).")
    var checkpointInterval = "30s"
    @Option(help: "The journal's initial LMDB map size in bytes; it doubles when full.")
    var mapSize = 1 << 30
    @Option(help: "The largest the map may grow, in bytes; past it writes are refused with -32005.")
    var maxMapSize = 64 << 30
    @Option(help: "Close a peer whose unsent output passes this many bytes (one that does not read).")
    var maxPendingOutputBytes = 64 * 1024 * 1024
    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"
    @Option(help: "text (one line per event, swift-log's format) or json (one JSON object per line), on stderr.")
    var logFormat = "text"
    @Option(
        help:
            "HOST:PORT to serve /metrics, /healthz, /readyz, /api and the web UI on (off by default; port 0 takes a free port)."
    )
    var http: String?
    @Option(help: "Close an HTTP peer whose request has not arrived whole this long after its first byte.")
    var httpRequestTimeout = "10s"
    @Option(help: "Most early future resolutions kept at once; past it one more is refused.")
    var maxKeptFutures = 1_000_000
    @Option(help: "With a token: close a peer that has not said a good hello this long after connecting (e.g. 10s).")
    var helloTimeout = "10s"
    @Option(help: "Close a peer whose output is over --max-pending-output-bytes and that reads nothing this long.")
    var outputStallTimeout = "5s"

    func run() throws {
        // A write to a peer that has closed must fail with EPIPE, not kill the daemon: libuv writes with write(2).
        signal(SIGPIPE, SIG_IGN)
        // Output buffers of a quarter MiB and more get their own mappings, freed one by one. glibc's default
        // raises this threshold as big blocks are freed, so a non-reader's tens of MiB of answers ended up in the
        // heap, and closing a few such peers trimmed hundreds of MiB in one turn: 70-110 ms stalls for everyone
        // (tools/probes/nonreaders.py; 9-13 ms with the threshold fixed).
        _ = cmalloc_fix_mmap_threshold(256 * 1024)
        var config = DaemonConfiguration()
        guard config.setListen(listen) else {
            throw ValidationError("--listen must be HOST:PORT (a host name, an IPv4 address or [IPv6]), not \(listen)")
        }
        config.dataDirectory = data
        guard config.setSync(named: sync) else { throw ValidationError("--sync must be full or none") }
        guard maxLineBytes >= 1024 else { throw ValidationError("--max-line-bytes must be at least 1024") }
        config.maxLineBytes = maxLineBytes
        guard maxPendingOutputBytes >= 1024 else {
            throw ValidationError("--max-pending-output-bytes must be at least 1024")
        }
        config.maxPendingOutputBytes = maxPendingOutputBytes
        config.retention = try Self.duration(retention, flag: "--retention")
        config.futureRetention = try Self.duration(futureRetention, flag: "--future-retention")
        guard checkpointEvents >= 1 else { throw ValidationError("--checkpoint-events must be at least 1") }
        config.checkpointEvents = checkpointEvents
        guard mapSize >= 65536, maxMapSize >= 65536 else {
            throw ValidationError("--map-size and --max-map-size must be at least 65536")
        }
        config.mapSize = min(mapSize, maxMapSize)
        config.maxMapSize = maxMapSize
        config.checkpointInterval = try Self.duration(checkpointInterval, flag: "--checkpoint-interval")
        if let tokenFile {
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw ValidationError("cannot read --token-file \(tokenFile)")
            }
            do {
                config.tokens = try AccessTokens(parsing: text)
            } catch {
                throw ValidationError("--token-file \(tokenFile): \(error)")
            }
        }
        guard maxKeptFutures >= 1 else { throw ValidationError("--max-kept-futures must be at least 1") }
        config.maxKeptFutures = maxKeptFutures
        config.helloTimeout = try Self.duration(helloTimeout, flag: "--hello-timeout")
        config.outputStallTimeout = try Self.duration(outputStallTimeout, flag: "--output-stall-timeout")
        if let http {
            guard config.setHTTP(http) else {
                throw ValidationError("--http must be HOST:PORT (a host name, an IPv4 address or [IPv6]), not \(http)")
            }
        }
        config.httpRequestTimeout = try Self.duration(httpRequestTimeout, flag: "--http-request-timeout")
        guard let level = Logger.Level(rawValue: logLevel) else { throw ValidationError("unknown --log-level") }
        switch logFormat {
        case "text":
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        case "json":
            LoggingSystem.bootstrap { label in
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        default: throw ValidationError("--log-format must be text or json")
        }
        let logger = Logger(label: "flowlined")
        let daemon: Daemon
        do {
            daemon = try Daemon(configuration: config, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("flowlined: cannot open journal at \(data): \(error)\n".utf8))
            throw ExitCode(3)
        }
        daemon.onHTTPListening { host, port in
            FileHandle.standardOutput.write(
                Data("flowlined http on \(DaemonConfiguration.address(host: host, port: port))\n".utf8)
            )
        }
        do {
            try daemon.run { host, port in
                FileHandle.standardOutput.write(
                    Data("flowlined listening on \(DaemonConfiguration.address(host: host, port: port))\n".utf8)
                )
            }
        } catch {
            FileHandle.standardError.write(Data("flowlined: cannot listen on \(listen): \(error)\n".utf8))
            throw ExitCode(4)
        }
    }

    /// The longest duration a flag takes: 100 years (36500d). Anything longer, `inf` included, is a usage error
    /// rather than "never": a finite bound keeps every deadline computed from it within Int64 milliseconds.
    static let maxDurationSeconds = 36_500.0 * 86_400

    /// `7d`, `12h`, `30m`, `90s` or plain seconds, from 0 to `maxDurationSeconds`.
    static func duration(_ text: String, flag: String) throws -> Duration {
        let units: [Character: Double] = ["d": 86400, "h": 3600, "m": 60, "s": 1]
        var number = Substring(text)
        var scale = 1.0
        if let last = text.last, let unit = units[last] {
            number = number.dropLast()
            scale = unit
        }
        // Double(_:) also reads "inf", "infinity" and "nan", which are no durations.
        guard let value = Double(number), value.isFinite, value >= 0 else {
            throw ValidationError("\(flag) must look like 7d, 12h or 90s")
        }
        guard value * scale <= maxDurationSeconds else {
            throw ValidationError("\(flag) must be at most 36500d (100 years); got \(text)")
        }
        return .milliseconds(Int64((value * scale * 1000).rounded()))
    }
}

Flowlined.main()
