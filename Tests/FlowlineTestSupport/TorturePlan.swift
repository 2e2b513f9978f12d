/// The workflows a torture run submits: small random DAGs whose every task result is a pure function of the
/// task's id, its input and its deps' results, so that a checker can recompute each one.
public struct TorturePlan: Sendable {
    public struct Task: Sendable {
        public var id: String
        public var n: Int64
        public var deps: [String]
    }

    public struct Workflow: Sendable {
        public var id: String
        public var tasks: [Task]

        /// The workflow document, one line of JSON.
        public var document: String {
            let tasks = tasks.map { t in
                let deps = t.deps.map { "\"\($0)\"" }.joined(separator: ",")
                return #"{"id":"\#(t.id)","handler":"torture","input":{"n":\#(t.n)},"deps":[\#(deps)]}"#
            }
            return #"{"name":"torture","id":"\#(id)","tasks":[\#(tasks.joined(separator: ","))]}"#
        }

        /// Each task's correct result, computed along the DAG (deps always come earlier in `tasks`).
        public var expectedResults: [String: Int64] {
            var results: [String: Int64] = [:]
            for task in tasks {
                let deps = Dictionary(uniqueKeysWithValues: task.deps.map { ($0, results[$0]!) })
                results[task.id] = TorturePlan.result(taskID: task.id, n: task.n, deps: deps)
            }
            return results
        }

        /// The tasks no other task depends on: the keys of a completed workflow's `result`.
        public var leaves: [String] {
            let used = Set(tasks.flatMap(\.deps))
            return tasks.map(\.id).filter { !used.contains($0) }
        }
    }

    public var workflows: [Workflow]

    /// `count` workflows of 1 to `maxTasks` tasks each, with deps drawn from earlier tasks.
    public init(count: Int, maxTasks: Int, random: inout SeededRandom) {
        workflows = (0..<count).map { i in
            let size = Int.random(in: 1...max(1, maxTasks), using: &random)
            let tasks = (0..<size).map { t in
                let candidates = (0..<t).filter { _ in Int.random(in: 0..<3, using: &random) == 0 }
                return Task(
                    id: "t\(t)",
                    n: Int64.random(in: 0..<1_000_000, using: &random),
                    deps: candidates.map { "t\($0)" }
                )
            }
            return Workflow(id: "torture-\(i)", tasks: tasks)
        }
    }

    /// What a worker answers for a task: FNV-1a over the task id, its input and its deps' results, sorted by
    /// dep id, kept below 2^53 so that any JSON reader holds it exactly.
    public static func result(taskID: String, n: Int64, deps: [String: Int64]) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ byte: UInt64) { hash = (hash ^ byte) &* 0x100_0000_01b3 }
        for byte in taskID.utf8 { mix(UInt64(byte)) }
        mix(UInt64(bitPattern: n))
        for (name, value) in deps.sorted(by: { $0.key < $1.key }) {
            for byte in name.utf8 { mix(UInt64(byte)) }
            mix(UInt64(bitPattern: value))
        }
        return Int64(hash >> 11)
    }
}
