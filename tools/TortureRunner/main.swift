import FlowlineTestSupport
import Foundation

// `tools/torture`: the long form of TortureTests. Flags: --seed N --kills N --workflows N --workers N
// --concurrency N --in-flight N --max-tasks N --max-kill-gap-ms N --peer-file PATH (for tools/soak). Exit 0 when nothing was lost, 1 otherwise.

var arguments = CommandLine.arguments.dropFirst()
var seed = UInt64(Date().timeIntervalSince1970 * 1000) & 0xFFFF_FFFF
var values: [String: Int] = [:]
var peerFile: String?
while let flag = arguments.popFirst() {
    if flag == "--peer-file", let path = arguments.popFirst() {
        peerFile = path
        continue
    }
    guard flag.hasPrefix("--"), let text = arguments.popFirst(), let value = UInt64(text) else {
        FileHandle.standardError.write(Data("torture: expected --flag NUMBER, got \(flag)\n".utf8))
        exit(2)
    }
    if flag == "--seed" { seed = value } else { values[String(flag.dropFirst(2))] = Int(value) }
}
var options = Torture.Options(seed: seed)
options.peerFile = peerFile
options.kills = values.removeValue(forKey: "kills") ?? 200
options.workflows = values.removeValue(forKey: "workflows") ?? 2000
options.workers = values.removeValue(forKey: "workers") ?? 4
options.concurrency = values.removeValue(forKey: "concurrency") ?? 16
options.inFlight = values.removeValue(forKey: "in-flight") ?? 200
options.maxTasksPerWorkflow = values.removeValue(forKey: "max-tasks") ?? 8
options.maxKillGapMilliseconds = values.removeValue(forKey: "max-kill-gap-ms") ?? 400
if let unknown = values.keys.first {
    FileHandle.standardError.write(Data("torture: unknown flag --\(unknown)\n".utf8))
    exit(2)
}

let directory = try TemporaryDirectory("flowline-torture")
let torture = Torture(options: options, dataDirectory: directory.path + "/data") { line in
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
let report = try torture.run()
for violation in report.violations.prefix(50) { print("VIOLATION: \(violation)") }
print("torture: \(report)")
exit(report.violations.isEmpty ? 0 : 1)
