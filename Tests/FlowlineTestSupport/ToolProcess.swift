import Foundation

/// Runs the real `flowline` admin tool as a subprocess and captures what it prints.
public enum ToolProcess {
    /// What one run of the tool did.
    public struct Output: Sendable, CustomStringConvertible {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var description: String { "exit \(status)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }
    }

    public struct NotFound: Error, CustomStringConvertible {
        public var description: String { "flowline not found: build it or set FLOWLINE_BIN" }
    }

    /// Runs `flowline arguments…` with `stdin` as its input and returns when it exits; kills it after `timeout` s.
    public static func run(
        _ arguments: [String],
        stdin: String? = nil,
        timeout: Double = 30,
        environment: [String: String] = [:]
    ) throws -> Output {
        guard let binary = binary() else { throw NotFound() }
        return try runProgram(binary, arguments, stdin: stdin, timeout: timeout, environment: environment)
    }

    /// Runs any program the same way (tests use `script` for a pseudo-terminal).
    public static func runProgram(
        _ program: String,
        _ arguments: [String],
        stdin: String? = nil,
        timeout: Double = 30,
        environment: [String: String] = [:]
    ) throws -> Output {
        let directory = NSTemporaryDirectory() + "flowline-tool-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outPath = directory + "/stdout"
        let errPath = directory + "/stderr"
        let inPath = directory + "/stdin"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        _ = FileManager.default.createFile(atPath: inPath, contents: Data((stdin ?? "").utf8))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle(forWritingAtPath: outPath)
        process.standardError = FileHandle(forWritingAtPath: errPath)
        process.standardInput = FileHandle(forReadingAtPath: inPath)
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus,
            stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        )
    }

    /// `FLOWLINE_BIN`, else `flowline` beside the running test binary, else under `.build/debug`.
    public static func binary() -> String? {
        if let path = ProcessInfo.processInfo.environment["FLOWLINE_BIN"] { return path }
        var candidates: [String] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
            for _ in 0..<4 {
                candidates.append(dir.appendingPathComponent("flowline").path)
                dir = dir.deletingLastPathComponent()
            }
        }
        candidates.append(FileManager.default.currentDirectoryPath + "/.build/debug/flowline")
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
