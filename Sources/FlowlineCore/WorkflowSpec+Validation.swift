extension WorkflowSpec {
    /// Checks what the codec cannot: ids, deps, cycles, limits. Nil when the document is good.
    /// `known` are task ids already in the workflow that deps may also name (for spawned tasks).
    public func validate() -> SpecError? {
        if name.isEmpty || !SpecLimits.fits(name) {
            return SpecError(path: "name", message: "must be 1 to \(SpecLimits.maxNameBytes) bytes")
        }
        if let id, id.rawValue.isEmpty || id.rawValue.utf8.count > SpecLimits.maxIDBytes {
            return SpecError(path: "id", message: "must be 1 to \(SpecLimits.maxIDBytes) bytes")
        }
        if let timeout, timeout <= .zero { return SpecError(path: "timeout_s", message: "must be positive") }
        if let retry, let problem = Self.problem(with: retry) {
            return SpecError(path: "retry.\(problem.field)", message: problem.message)
        }
        return Self.validate(tasks: tasks, pathPrefix: "tasks", known: [])
    }

    /// What is wrong with a retry policy (a task's or the workflow's), if anything.
    static func problem(with retry: RetryPolicy) -> (field: String, message: String)? {
        if retry.maxAttempts < 1 || retry.maxAttempts > SpecLimits.maxAttempts {
            return ("max_attempts", "must be 1 to \(SpecLimits.maxAttempts)")
        }
        if !(retry.multiplier >= 1 && retry.multiplier <= 1000) {
            return ("backoff_multiplier", "must be from 1 to 1000")
        }
        return nil
    }

    /// Validates a list of tasks whose deps name each other or an id in `known`.
    public static func validate(tasks: [TaskSpec], pathPrefix: String, known: Set<String>) -> SpecError? {
        if tasks.isEmpty { return SpecError(path: pathPrefix, message: "a workflow needs at least one task") }
        if tasks.count > SpecLimits.maxTasks {
            return SpecError(path: pathPrefix, message: "at most \(SpecLimits.maxTasks) tasks")
        }
        let index = TaskPositions(tasks)
        // Sets hash even when empty, and most lists have no known ids.
        let isKnown: (String) -> Bool = known.isEmpty ? { _ in false } : { known.contains($0) }
        // By position: a `for task in tasks` binding copies each spec, retaining every field.
        for i in tasks.indices {
            if let error = tasks[i].validateFields(pathPrefix: pathPrefix, index: i) { return error }
            let id = tasks[i].id
            if index.position(of: id, before: i) != nil || isKnown(id) {
                return SpecError(path: "\(pathPrefix)[\(i)].id", message: "duplicate task id '\(id)'")
            }
        }
        for i in tasks.indices {
            for (j, dep) in tasks[i].deps.enumerated() where index.position(of: dep) == nil && !isKnown(dep) {
                return SpecError(path: "\(pathPrefix)[\(i)].deps[\(j)]", message: "names no task: '\(dep)'")
            }
        }
        // Without deps among the new tasks there is no cycle (the common single-task workflow skips Kahn's lists).
        if tasks.contains(where: { !$0.deps.isEmpty }), let cyclic = firstTaskOnCycle(tasks, index: index) {
            return SpecError(
                path: "\(pathPrefix)[\(cyclic)].deps",
                message: "the deps form a cycle through '\(tasks[cyclic].id)'"
            )
        }
        return nil
    }

    /// Kahn's algorithm over the new tasks; what is never freed lies on (or behind) a cycle.
    private static func firstTaskOnCycle(_ tasks: [TaskSpec], index: TaskPositions) -> Int? {
        var pending = [Int](repeating: 0, count: tasks.count)
        var dependents = [[Int]](repeating: [], count: tasks.count)
        for (i, task) in tasks.enumerated() {
            for dep in task.deps {
                guard let d = index.position(of: dep) else { continue }
                pending[i] += 1
                dependents[d].append(i)
            }
        }
        var ready = (0..<tasks.count).filter { pending[$0] == 0 }
        var freed = 0
        while let next = ready.popLast() {
            freed += 1
            for dependent in dependents[next] {
                pending[dependent] -= 1
                if pending[dependent] == 0 { ready.append(dependent) }
            }
        }
        if freed == tasks.count { return nil }
        return pending.firstIndex { $0 > 0 }
    }
}

/// Where each task id first appears in a list of tasks.
///
/// A short list (nearly every workflow has one task, or a few) is searched in place: comparing a handful of ids
/// costs less than allocating a dictionary and hashing every id into it, which was most of a one-task submit's
/// validation. A long list gets the dictionary, so validation stays linear.
private struct TaskPositions {
    private static let linearLimit = 8

    private let tasks: [TaskSpec]
    private let table: [String: Int]?

    init(_ tasks: [TaskSpec]) {
        self.tasks = tasks
        guard tasks.count > Self.linearLimit else {
            table = nil
            return
        }
        var table: [String: Int] = [:]
        table.reserveCapacity(tasks.count)
        // The first position wins, as the linear search finds it.
        for (i, task) in tasks.enumerated() where table[task.id] == nil { table[task.id] = i }
        self.table = table
    }

    /// The position of the first task named `id`, if it comes before `end`.
    func position(of id: String, before end: Int? = nil) -> Int? {
        let end = end ?? tasks.count
        if let table {
            guard let i = table[id], i < end else { return nil }
            return i
        }
        for i in 0..<end where tasks[i].id == id { return i }
        return nil
    }
}

extension TaskSpec {
    /// The path is built only for an error: a valid task (nearly every one) costs no string.
    func validateFields(pathPrefix: String, index: Int) -> SpecError? {
        validateFields { "\(pathPrefix)[\(index)]" }
    }

    private func validateFields(path makePath: () -> String) -> SpecError? {
        guard let problem = firstProblem() else { return nil }
        return SpecError(path: "\(makePath()).\(problem.field)", message: problem.message)
    }

    private func firstProblem() -> (field: String, message: String)? {
        if id.isEmpty || id.utf8.contains(UInt8(ascii: "/")) || id.utf8.count > SpecLimits.maxIDBytes {
            return ("id", "must be 1 to \(SpecLimits.maxIDBytes) bytes without '/'")
        }
        if handler.isEmpty || !SpecLimits.fits(handler) {
            return ("handler", "must be 1 to \(SpecLimits.maxNameBytes) bytes")
        }
        if queue.isEmpty || !SpecLimits.fits(queue) {
            return ("queue", "must be 1 to \(SpecLimits.maxNameBytes) bytes")
        }
        if let revert, revert.isEmpty || !SpecLimits.fits(revert) {
            return ("revert", "must be 1 to \(SpecLimits.maxNameBytes) bytes")
        }
        if let problem = WorkflowSpec.problem(with: retry) { return ("retry.\(problem.field)", problem.message) }
        if runIf.waitsForEveryEnd && deps.isEmpty {
            return ("run_if", "\(runIf.rawValue) needs deps: it runs on how they ended")
        }
        if revertOnFailure && revert == nil { return ("revert_on_failure", "needs a revert handler") }
        if let timeout, timeout <= .zero { return ("timeout_s", "must be positive") }
        if let heartbeat, heartbeat <= .zero {
            return ("heartbeat_s", "must be positive")
        }
        return nil
    }
}
