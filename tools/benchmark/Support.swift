import FlowlineProtocol
import Foundation

/// CLOCK_MONOTONIC in nanoseconds: the same clock as Python's `time.monotonic_ns()`, so that times taken in
/// worker processes (Swift or Python) and in the driver compare.
func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

func monotonicSeconds() -> Double { Double(monotonicNanos()) / 1e9 }

/// A child process with its stdin held open (closing it tells bench workers to report and exit) and its
/// stdout collected.
final class Child: @unchecked Sendable {
    let process = Process()
    private let stdinPipe = Pipe()
    private let stdoutPipe = Pipe()
    private var collected = Data()
    private let lock = NSLock()
    private var lineWaiters: [(String) -> Bool] = []

    init(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        stderr: FileHandle? = nil
    ) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        if let stderr { process.standardError = stderr }
        stdoutPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            self.lock.lock()
            self.collected.append(data)
            self.lock.unlock()
        }
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    var output: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: collected, as: UTF8.self)
    }

    /// Waits (polling every 0.2 ms) for an output line that starts with `prefix`; returns it, or nil at the timeout.
    func waitForLine(prefix: String, timeout: Double) -> String? {
        let deadline = monotonicSeconds() + timeout
        while monotonicSeconds() < deadline {
            if let line = output.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) { return String(line) }
            if !process.isRunning { return nil }
            usleep(200)
        }
        return nil
    }

    /// Closes stdin and waits for the process to exit; returns its whole stdout.
    @discardableResult
    func finish(timeout: Double = 30) -> String {
        try? stdinPipe.fileHandleForWriting.close()
        let deadline = monotonicSeconds() + timeout
        while process.isRunning && monotonicSeconds() < deadline { usleep(1_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        stdoutPipe.fileHandleForReading.readabilityHandler = nil
        if let rest = try? stdoutPipe.fileHandleForReading.readToEnd() {
            lock.lock()
            collected.append(rest)
            lock.unlock()
        }
        return output
    }

    func signal(_ signal: Int32) { if process.isRunning { kill(process.processIdentifier, signal) } }
}

/// A `flowlined` started by the bench: start-to-listening is timed from just before spawning to the listening
/// line on stdout (read as it arrives, not polled from a file).
final class BenchDaemon {
    let child: Child
    let port: Int
    let startToListening: Double
    let stderrPath: String

    init(binary: String, data: String, sync: String, extra: [String] = [], logLevel: String = "notice") throws {
        stderrPath = data + ".stderr"
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        let started = monotonicSeconds()
        child = try Child(
            binary,
            ["--listen", "127.0.0.1:0", "--data", data, "--sync", sync, "--log-level", logLevel] + extra,
            stderr: FileHandle(forWritingAtPath: stderrPath)
        )
        guard let line = child.waitForLine(prefix: "flowlined listening on ", timeout: 600),
            let port = line.split(separator: ":").last.flatMap({ Int($0) })
        else {
            throw BenchError(
                "flowlined did not listen: \((try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "")"
            )
        }
        startToListening = monotonicSeconds() - started
        self.port = port
    }

    var pid: Int32 { child.pid }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    func stop() {
        child.signal(SIGTERM)
        child.finish()
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `VmRSS`, `RssAnon` and `RssFile` of a process, in bytes.
func residentBytes(of pid: Int32) -> (rss: Int, anon: Int, file: Int) {
    let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    func field(_ name: String) -> Int {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return 0 }
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
    }
    return (field("VmRSS"), field("RssAnon"), field("RssFile"))
}

/// Parses a JSON line a child printed.
func parseLine(_ line: Substring) -> JSON? { try? JSONParser.parse(Array(line.utf8)) }
