import Foundation

/// The real `flowlined`, started on 127.0.0.1:0 with a data directory, as tests and benchmarks use it.
public final class DaemonProcess {
    public let port: Int
    /// What the daemon printed when it started listening (`flowlined listening on 127.0.0.1:PORT`).
    public let listeningLine: String
    /// With `--http` among the arguments: the port of `flowlined http on HOST:PORT`.
    public let httpPort: Int?
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

    /// Starts `flowlined --listen <listen> --data <data>` and waits (at most 10 s) for its listening line.
    /// `listen` defaults to `127.0.0.1:0` (a free port); a fixed one lets a restarted daemon keep its address.
    /// `environment` is added to the test's own.
    public init(
        data: String,
        sync: String = "none",
        listen: String = "127.0.0.1:0",
        extraArguments: [String] = [],
        environment: [String: String] = [:]
    ) throws {
        guard let binary = Self.binary() else { throw StartError.binaryNotFound }
        self.data = data
        let stdoutPath = data + ".stdout-\(UUID().uuidString)"
        stderrPath = data + ".stderr-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process = Process()
        let arguments = ["--listen", listen, "--data", data, "--sync", sync, "--log-level", "notice"] + extraArguments
        // The test runner ignores SIGPIPE and a child inherits that; the daemon must not rely on it (issue #18), so
        // it starts with the default action, as from a shell. env execs the daemon: the pid stays the daemon's.
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/env") {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["--default-signal=PIPE", binary] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments
        }
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        var found: Int?
        var foundLine = ""
        var foundHTTP: Int?
        let wantsHTTP = extraArguments.contains("--http")
        while Date() < deadline && (found == nil || (wantsHTTP && foundHTTP == nil)) {
            let text = (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? ""
            let lines = text.split(separator: "\n")
            if let line = lines.first(where: { $0.hasPrefix("flowlined listening on ") }),
                let portText = line.split(separator: ":").last, let port = Int(portText)
            {
                found = port
                foundLine = String(line)
            }
            if let line = lines.first(where: { $0.hasPrefix("flowlined http on ") }),
                let portText = line.split(separator: ":").last, let port = Int(portText)
            {
                foundHTTP = port
            }
            if found != nil && (!wantsHTTP || foundHTTP != nil) { break }
            if !process.isRunning { break }
            usleep(10_000)
        }
        try? FileManager.default.removeItem(atPath: stdoutPath)
        guard let found, !wantsHTTP || foundHTTP != nil else {
            if process.isRunning { process.terminate() }
            throw StartError.noListeningLine(stderr: (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "")
        }
        port = found
        listeningLine = foundLine
        httpPort = foundHTTP
    }

    /// What the daemon wrote to stderr so far (attach it to a failing test).
    public var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    public var isRunning: Bool { process.isRunning }

    /// The daemon's process id (for /proc/<pid>/status, say).
    public var pid: Int32 { process.processIdentifier }

    /// The daemon's resident set size in bytes (`VmRSS` in /proc/<pid>/status), nil once it has exited.
    public var residentBytes: Int? { statusKilobytes("VmRSS:").map { $0 * 1024 } }

    /// The daemon's peak resident set size so far in bytes (`VmHWM`), nil once it has exited.
    public var peakResidentBytes: Int? { statusKilobytes("VmHWM:").map { $0 * 1024 } }

    private func statusKilobytes(_ field: String) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field) }),
            let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return nil }
        return kilobytes
    }

    /// Sends `signal` and waits (at most 10 s) for the process to exit; returns its exit status.
    @discardableResult
    /// The default, 15, is SIGTERM.
    public func stop(signal: Int32 = 15) -> Int32 {
        if process.isRunning { kill(process.processIdentifier, signal) }
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, close), for a daemon that
    /// must restart on the same address.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = unsafe inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = unsafe withUnsafeMutablePointer(to: &address) { pointer in
            unsafe pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sockaddr in
                unsafe bind(fd, sockaddr, length) == 0 && getsockname(fd, sockaddr, &length) == 0
            }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        return Int(UInt16(bigEndian: address.sin_port))
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
