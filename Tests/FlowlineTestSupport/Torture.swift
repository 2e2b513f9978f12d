import FlowlineProtocol
import Foundation

/// A crash torture run: workflows in flight on a `--sync full` daemon that is SIGKILLed at random moments and
/// restarted on the same data directory, while scripted workers complete tasks with results derived from each
/// task's id, input and deps. It then checks that every acknowledged workflow completed with the right results
/// and that no task whose completion was acknowledged was dispatched again.
public final class Torture {
    public struct Options: Sendable {
        public var seed: UInt64
        public var workflows = 60
        public var kills = 10
        public var workers = 3
        public var concurrency = 8
        /// Workflows submitted but not yet finished, at most.
        public var inFlight = 40
        public var maxTasksPerWorkflow = 6
        /// A kill comes at a random moment up to this long after the previous restart.
        public var maxKillGapMilliseconds = 400
        /// With no progress for this long the run fails.
        public var stallSeconds = 30.0
        /// When set, "PID PORT" of the running daemon is written here after every start, so that a soak's
        /// misbehaving peers (`tools/soak`) can find it.
        public var peerFile: String?

        public init(seed: UInt64) { self.seed = seed }
    }

    public struct Report: Sendable, CustomStringConvertible {
        public var seed: UInt64 = 0
        public var workflows = 0
        public var kills = 0
        public var tasks = 0
        public var dispatches = 0
        /// Dispatches of a task already dispatched whose completion had not been acknowledged.
        public var redispatches = 0
        public var acknowledgedCompletions = 0
        public var lostCompletionAnswers = 0
        /// Of those, the ones the daemon had committed before it died (found completed, never dispatched again).
        public var committedUnanswered = 0
        public var submissions = 0
        public var resubmissionsAcknowledged = 0
        public var seconds = 0.0
        public var violations: [String] = []
        /// The largest `VmHWM` (peak resident set) of any of the run's daemons, read just before each was stopped.
        public var peakResidentBytes = 0

        public var description: String {
            "seed \(seed): \(workflows) workflows, \(kills) kills, \(tasks) tasks, \(dispatches) dispatches, "
                + "\(redispatches) redispatches of unacknowledged work, \(lostCompletionAnswers) completions "
                + "unanswered at a kill (\(committedUnanswered) of them committed), \(submissions) submits (\(resubmissionsAcknowledged) acknowledged twice), "
                + "\(violations.count) violations, \(String(format: "%.1f", seconds)) s, "
                + "peak RSS \(peakResidentBytes / 1_048_576) MiB"
        }
    }

    public struct Stalled: Error, CustomStringConvertible {
        public var description: String
    }

    private enum Submission { case unsent, sent, acknowledged }

    private let options: Options
    private let dataDirectory: String
    private let log: (String) -> Void
    private var random: SeededRandom
    private let plan: TorturePlan
    private let expected: [[String: Int64]]
    private var report = Report()

    private var daemon: DaemonProcess?
    private var client: LineClient?
    private var workers: [LineClient] = []
    private var submission: [Submission]
    private var pendingSubmits: [Int64: Int] = [:]
    /// Per worker: the request id of each `task.complete` not yet answered, and its task key.
    private var pendingCompletes: [[Int64: String]] = []
    private var acknowledged: Set<String> = []
    private var dispatched: [String: Int] = [:]
    private var remaining: [Int]
    private var lastProgress = Date()
    private var lastReconcile = Date()
    /// Tasks the daemon reports completed although their `task.complete` went unanswered (it committed, then died).
    private var committedUnanswered: Set<String> = []

    public init(options: Options, dataDirectory: String, log: @escaping (String) -> Void = { print($0) }) {
        self.options = options
        self.dataDirectory = dataDirectory
        self.log = log
        random = SeededRandom(seed: options.seed)
        plan = TorturePlan(count: options.workflows, maxTasks: options.maxTasksPerWorkflow, random: &random)
        expected = plan.workflows.map(\.expectedResults)
        submission = Array(repeating: .unsent, count: options.workflows)
        remaining = plan.workflows.map(\.tasks.count)
        report.seed = options.seed
        report.workflows = options.workflows
        report.tasks = remaining.reduce(0, +)
    }

    /// Runs the whole torture and the final check; violations are in the report, not thrown.
    public func run() throws -> Report {
        do {
            return try torture()
        } catch {
            // A runner that exits on the error would otherwise leave the daemon running.
            daemon?.crash()
            throw error
        }
    }

    private func torture() throws -> Report {
        let started = Date()
        log(
            "torture: seed \(options.seed) (rerun with --seed \(options.seed)), \(options.workflows) workflows, "
                + "\(report.tasks) tasks, \(options.kills) kills"
        )
        try restart()
        var nextKill = Date().addingTimeInterval(killGap())
        while !isDone {
            if report.kills < options.kills && Date() >= nextKill {
                try kill()
                nextKill = Date().addingTimeInterval(killGap())
                continue
            }
            submitMore()
            let arrived = takeClientMessages() + takeWorkerMessages()
            if arrived > 0 {
                lastProgress = Date()
            } else {
                let idle = Date().timeIntervalSince(lastProgress)
                if idle > options.stallSeconds { throw Stalled(description: state) }
                if idle > 0.5 && Date().timeIntervalSince(lastReconcile) > 0.5 { try reconcile() }
                usleep(500)
            }
        }
        // One more crash once everything is done: the results must survive it too.
        try kill()
        try verify()
        report.seconds = Date().timeIntervalSince(started)
        notePeak()
        _ = daemon?.stop()
        return report
    }

    private var isDone: Bool {
        !submission.contains { if case .acknowledged = $0 { false } else { true } } && !remaining.contains { $0 > 0 }
    }

    private var state: String {
        let unacknowledged = submission.indices.filter {
            if case .acknowledged = submission[$0] { false } else { true }
        }
        let open = remaining.indices.filter { remaining[$0] > 0 }
        var text =
            "stalled after \(report.kills) kills: unacknowledged submits \(unacknowledged.prefix(10)), "
            + "unfinished \(open.prefix(10))\n"
        for index in open.prefix(3) {
            let workflow = plan.workflows[index]
            let record = try? client?.result("workflow.get", #"{"workflow_id":"\#(workflow.id)"}"#)
            for task in workflow.tasks {
                let key = "\(workflow.id)/\(task.id)"
                let server = record?["tasks"]?.arrayValue?.first { $0["id"]?.stringValue == task.id }
                text +=
                    "  \(key) deps \(task.deps): dispatched \(dispatched[key] ?? 0), acknowledged "
                    + "\(acknowledged.contains(key)); daemon: \(server?["state"] ?? .null) attempts "
                    + "\(server?["attempts"] ?? .null) worker \(server?["worker"] ?? .null)\n"
            }
        }
        for (w, pending) in pendingCompletes.enumerated() {
            for (id, key) in pending.sorted(by: { $0.key < $1.key }).prefix(5) {
                let answered = workers[w].received.contains {
                    String(decoding: $0, as: UTF8.self).contains("\"id\":\(id),")
                }
                text +=
                    "  pending on worker \(w): id \(id) \(key), answer received \(answered), "
                    + "closed \(workers[w].isClosed), sent \(workers[w].sent.count), received \(workers[w].received.count)\n"
            }
        }
        let workers = (try? client?.result("workers.list")).map { "\($0 ?? .null)" } ?? "?"
        return text + "workers: \(workers)\ndaemon stderr:\n\(daemon?.stderr.suffix(4000) ?? "")"
    }

    private func killGap() -> TimeInterval {
        // One kill in five comes almost at once, often while the daemon is still recovering or re-dispatching.
        let quick = Int.random(in: 0..<5, using: &random) == 0
        let upper = quick ? 30 : max(31, options.maxKillGapMilliseconds)
        return Double(Int.random(in: 0...upper, using: &random)) / 1000
    }

    // MARK: - Crashes

    /// SIGKILLs the daemon, reads what it wrote before dying, and starts a new one on the same directory.
    private func kill() throws {
        notePeak()
        daemon?.crash()
        report.kills += 1
        // What the daemon wrote before it died still counts: an answer that reached the socket was given.
        let deadline = Date().addingTimeInterval(2)
        for peer in [client].compactMap({ $0 }) + workers {
            while !peer.isClosed && Date() < deadline {
                if peer.poll() == 0 { usleep(200) }
            }
        }
        _ = takeClientMessages() + takeWorkerMessages()
        report.lostCompletionAnswers += pendingCompletes.map(\.count).reduce(0, +)
        for index in pendingSubmits.values where submission[index] == .sent { submission[index] = .unsent }
        pendingSubmits.removeAll()
        try restart()
        if report.kills % 25 == 0 {
            log(
                "torture: \(report.kills) kills, \(acknowledged.count + committedUnanswered.count)/\(report.tasks) tasks done"
            )
        }
        try checkNothingLost()
        resubmitSomeAcknowledged()
    }

    private func restart() throws {
        client = nil
        workers.removeAll()
        daemon = nil
        let daemon = try DaemonProcess(data: dataDirectory, sync: "full")
        self.daemon = daemon
        if let peerFile = options.peerFile {
            try "\(daemon.pid) \(daemon.port)\n".write(toFile: peerFile, atomically: true, encoding: .utf8)
        }
        client = try LineClient(port: daemon.port)
        workers = try (0..<options.workers).map { i in
            try LineClient.worker(port: daemon.port, name: "torture-\(i)", concurrency: options.concurrency)
        }
        pendingCompletes = Array(repeating: [:], count: options.workers)
        lastProgress = Date()
    }

    private func notePeak() {
        report.peakResidentBytes = max(report.peakResidentBytes, daemon?.peakResidentBytes ?? 0)
    }

    /// Right after a restart: the daemon knows at least every workflow and completion it acknowledged.
    private func checkNothingLost() throws {
        guard let client else { return }
        let stats = try client.result("stats")
        let completed = stats["tasks"]?["completed"]?.int64Value ?? -1
        if completed < acknowledged.count {
            report.violations.append(
                "after kill \(report.kills): \(completed) tasks completed, \(acknowledged.count) acknowledged"
            )
        }
        let workflows = (stats["workflows"]?.objectValue ?? [:]).values.compactMap(\.int64Value).reduce(0, +)
        let submitted = submission.filter { $0 == .acknowledged }.count
        if workflows < submitted {
            report.violations.append(
                "after kill \(report.kills): \(workflows) workflows known, \(submitted) acknowledged"
            )
        }
    }

    /// An acknowledged workflow submitted again by its id must answer `created: false` and start nothing.
    private func resubmitSomeAcknowledged() {
        let done = submission.indices.filter { submission[$0] == .acknowledged }
        for _ in 0..<min(2, done.count) {
            let index = done.randomElement(using: &random)!
            guard let id = client?.send("workflow.submit", plan.workflows[index].document) else { return }
            pendingSubmits[id] = index
            report.submissions += 1
        }
    }

    // MARK: - Clients and workers

    private func submitMore() {
        guard let client else { return }
        // Submissions are paced over the kills, so that every stretch between two kills has fresh work.
        let share = (options.workflows * (report.kills + 1) + options.kills) / (options.kills + 1)
        let inFlight = submission.indices.filter { submission[$0] != .unsent && remaining[$0] > 0 }.count
        var budget = options.inFlight - inFlight
        for index in submission.indices where index < share && budget > 0 && submission[index] == .unsent {
            pendingSubmits[client.send("workflow.submit", plan.workflows[index].document)] = index
            submission[index] = .sent
            report.submissions += 1
            budget -= 1
        }
    }

    private func takeClientMessages() -> Int {
        guard let client else { return 0 }
        client.poll()
        let messages = client.inbox
        client.inbox.removeAll()
        for message in messages {
            guard let id = message["id"]?.int64Value, let index = pendingSubmits.removeValue(forKey: id) else {
                continue
            }
            let workflowID = plan.workflows[index].id
            guard let result = message["result"], result["workflow_id"]?.stringValue == workflowID else {
                report.violations.append("submit of \(workflowID) answered \(message)")
                continue
            }
            if submission[index] == .acknowledged {
                report.resubmissionsAcknowledged += 1
                if result["created"] != .bool(false) {
                    report.violations.append("resubmitting acknowledged \(workflowID) answered \(result)")
                }
            }
            submission[index] = .acknowledged
        }
        return messages.count
    }

    private func takeWorkerMessages() -> Int {
        var count = 0
        for (w, worker) in workers.enumerated() {
            worker.poll()
            let messages = worker.inbox
            worker.inbox.removeAll()
            count += messages.count
            for message in messages {
                if message["method"] == .string("task.run") {
                    run(message["params"] ?? .null, on: w)
                } else if let id = message["id"]?.int64Value, let key = pendingCompletes[w].removeValue(forKey: id) {
                    completed(key, answer: message)
                }
            }
        }
        return count
    }

    /// A `task.run`: check it may run, compute its result from its input and deps, and complete it.
    private func run(_ task: JSON, on w: Int) {
        report.dispatches += 1
        guard let workflowID = task["workflow_id"]?.stringValue, let taskID = task["task_id"]?.stringValue,
            let index = plan.workflows.firstIndex(where: { $0.id == workflowID }),
            let spec = plan.workflows[index].tasks.first(where: { $0.id == taskID }),
            let lease = task["lease"]?.stringValue
        else {
            report.violations.append("unexpected task.run \(task)")
            return
        }
        let key = "\(workflowID)/\(taskID)"
        if acknowledged.contains(key) {
            report.violations.append("\(key) was dispatched again after its completion was acknowledged")
        }
        if committedUnanswered.contains(key) {
            report.violations.append("\(key) was dispatched again after the daemon reported it completed")
        }
        dispatched[key, default: 0] += 1
        if dispatched[key]! > 1 { report.redispatches += 1 }
        if task["input"]?["n"]?.int64Value != spec.n {
            report.violations.append("\(key) got input \(task["input"] ?? .null)")
        }
        var deps: [String: Int64] = [:]
        for dep in spec.deps {
            let value = task["deps"]?[dep]?.int64Value
            if value != expected[index][dep] {
                report.violations.append("\(key) got dep \(dep) = \(String(describing: value))")
            }
            deps[dep] = value ?? 0
        }
        let result = TorturePlan.result(taskID: taskID, n: task["input"]?["n"]?.int64Value ?? 0, deps: deps)
        let id = workers[w].send("task.complete", #"{"lease":"\#(lease)","result":\#(result)}"#)
        pendingCompletes[w][id] = key
    }

    private func completed(_ key: String, answer: JSON) {
        if answer["result"] != nil {
            if acknowledged.insert(key).inserted {
                report.acknowledgedCompletions += 1
                let workflowID = String(key[..<key.lastIndex(of: "/")!])
                if let index = plan.workflows.firstIndex(where: { $0.id == workflowID }) { remaining[index] -= 1 }
            }
        } else if answer["error"]?["code"]?.int64Value != -32003 {
            report.violations.append("task.complete of \(key) answered \(answer)")
        }
    }

    /// A `task.complete` that went unanswered at a kill may still have committed: then the task is done and never
    /// dispatched again. When nothing moves, ask the daemon about the workflows still open.
    private func reconcile() throws {
        lastReconcile = Date()
        guard let client else { return }
        for index in remaining.indices where remaining[index] > 0 && submission[index] == .acknowledged {
            let workflow = plan.workflows[index]
            let record = try client.result("workflow.get", #"{"workflow_id":"\#(workflow.id)"}"#)
            for task in record["tasks"]?.arrayValue ?? [] where task["state"] == .string("completed") {
                let key = "\(workflow.id)/\(task["id"]?.stringValue ?? "?")"
                guard !acknowledged.contains(key), committedUnanswered.insert(key).inserted else { continue }
                report.committedUnanswered += 1
                remaining[index] -= 1
                lastProgress = Date()
            }
        }
    }

    // MARK: - The final check

    private func verify() throws {
        guard let client else { return }
        for (index, workflow) in plan.workflows.enumerated() {
            let record = try client.result("workflow.get", #"{"workflow_id":"\#(workflow.id)"}"#)
            guard record["state"] == .string("completed") else {
                report.violations.append("\(workflow.id) ended \(record["state"] ?? .null)")
                continue
            }
            for task in record["tasks"]?.arrayValue ?? [] {
                let id = task["id"]?.stringValue ?? "?"
                if task["result"]?.int64Value != expected[index][id] {
                    report.violations.append("\(workflow.id)/\(id) has result \(task["result"] ?? .null)")
                }
                if task["attempts"] != .int(1) {
                    report.violations.append("\(workflow.id)/\(id) used \(task["attempts"] ?? .null) attempts")
                }
            }
            for leaf in workflow.leaves where record["result"]?[leaf]?.int64Value != expected[index][leaf] {
                report.violations.append("\(workflow.id) result[\(leaf)] is \(record["result"]?[leaf] ?? .null)")
            }
        }
    }
}
