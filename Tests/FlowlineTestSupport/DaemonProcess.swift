import Foundation

/// The real `flowlined`, started on 127.0.0.1:0 with a data directory, as tests and benchmarks use it.
public final class DaemonProcess {
    public let port: Int
    public let data: String
    private let process: Process
    private let stderrPath: String

    public enum StartError: Error, CustomStringConvertible {
        case binaryNotFound
        case noListeningLine(stderr: String)
        public var description: String {
            switch self {
            case .binaryNotFound: "flowlined not found: build it or set FLOWLINED_BIN"
            case .noListeningLine(let stderr): "flowlined did not report listening within 10 s; stderr:\n\(stderr)"
            }
        }
    }

    /// Starts `flowlined --listen 127.0.0.1:0 --data <data>` and waits (at most 10 s) for its listening line.
    public init(data: String, sync: String = "none", extraArguments: [String] = []) throws {
        guard let binary = Self.binary() else { throw StartError.binaryNotFound }
        self.data = data
        let stdoutPath = data + ".stdout-\(UUID().uuidString)"
        stderrPath = data + ".stderr-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--listen", "127.0.0.1:0", "--data", data, "--sync", sync, "--log-level", "notice"] + extraArguments
        process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        var found: Int?
        while Date() < deadline && found == nil {
            let text = (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flowlined listening on ") }),
                let portText = line.split(separator: ":").last, let port = Int(portText)
            {
                found = port
            } else if !process.isRunning {
                break
            } else {
                usleep(10_000)
            }
        }
        try? FileManager.default.removeItem(atPath: stdoutPath)
        guard let found else {
            if process.isRunning { process.terminate() }
            throw StartError.noListeningLine(stderr: (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "")
        }
        port = found
    }

    /// What the daemon wrote to stderr so far (attach it to a failing test).
    public var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    public var isRunning: Bool { process.isRunning }

    /// The daemon's process id (for /proc/<pid>/status, say).
    public var pid: Int32 { process.processIdentifier }

    /// The daemon's resident set size in bytes (`VmRSS` in /proc/<pid>/status), nil once it has exited.
    public var residentBytes: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return nil }
        return kilobytes * 1024
    }

    /// Sends `signal` and waits (at most 10 s) for the process to exit; returns its exit status.
    @discardableResult
    public func stop(signal: Int32 = 15 /* SIGTERM */) -> Int32 {
        if process.isRunning { kill(process.processIdentifier, signal) }
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Kills the daemon with SIGKILL: no shutdown, no final commit.
    public func crash() { stop(signal: SIGKILL) }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: stderrPath)
    }

    /// `FLOWLINED_BIN`, else `flowlined` beside the running test binary, else under `.build/debug`.
    public static func binary() -> String? {
        if let path = ProcessInfo.processInfo.environment["FLOWLINED_BIN"] { return path }
        var candidates: [String] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
            for _ in 0..<4 {
                candidates.append(dir.appendingPathComponent("flowlined").path)
                dir = dir.deletingLastPathComponent()
            }
        }
        candidates.append(FileManager.default.currentDirectoryPath + "/.build/debug/flowlined")
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
