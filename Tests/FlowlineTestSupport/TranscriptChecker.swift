import Foundation

/// Checks every line `LineClient`s sent and received against proto-json with a well-kept JSON Schema
/// implementation: it writes each transcript to a file (`> ` a line the peer sent, `< ` one the daemon sent) and
/// runs `tools/check-transcript` (Python's jsonschema, Draft 2020-12), which applies `<method>.params.json`,
/// `<method>.result.json`, `task.run.json`/`task.cancel.json` and `error.json` as the SPEC pairs them.
public struct TranscriptChecker {
    let script: String

    /// Finds `tools/check-transcript` in the repository, from this file's path.
    public init(file: String = #filePath) {
        var root = file
        for _ in 0..<3 { root = String(root[..<(root.lastIndex(of: "/") ?? root.startIndex)]) }
        script = root + "/tools/check-transcript"
    }

    /// Every violation in the clients' transcripts, one line each; empty when everything conforms. A missing
    /// python3 or jsonschema is a violation too: the check must not pass by not running.
    public func violations(of clients: LineClient...) throws -> [String] {
        let directory = try TemporaryDirectory("flowline-transcript")
        var paths: [String] = []
        for (index, client) in clients.enumerated() {
            var text = ""
            for line in client.sent { text += "> " + String(decoding: line, as: UTF8.self) + "\n" }
            for line in client.received { text += "< " + String(decoding: line, as: UTF8.self) + "\n" }
            let path = directory.path + "/peer-\(index).txt"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            paths.append(path)
        }
        let output = try ToolProcess.runProgram("/usr/bin/env", ["python3", script] + paths, timeout: 60)
        guard output.status == 0 else {
            return (output.stdout + output.stderr).split(separator: "\n").map(String.init) + [
                "tools/check-transcript exited \(output.status)"
            ]
        }
        return []
    }
}
