import FlowlineCore

/// Field-by-field differences between two values of one type, found by reflection so that a field added to
/// `Workflow` or `TaskRecord` is compared without anyone remembering to add it here.
enum FieldDifference {
    /// `state: replay running, checkpoint completed`, `tasks[b].attempts: replay 1, checkpoint 2`, ...
    static func workflow(_ replay: Workflow, _ checkpoint: Workflow) -> [String] {
        var lines: [String] = []
        for (a, b) in zip(Mirror(reflecting: replay).children, Mirror(reflecting: checkpoint).children) {
            guard let label = a.label else { continue }
            switch label {
            // Rebuilt from `tasks` whenever a checkpoint is restored, so it cannot disagree on its own.
            case "index": continue
            case "tasks": lines += tasks(replay.tasks, checkpoint.tasks)
            default:
                if !isEqual(a.value, b.value) {
                    lines.append("\(label): replay \(describe(a.value)), checkpoint \(describe(b.value))")
                }
            }
        }
        return lines
    }

    private static func tasks(_ replay: [TaskRecord], _ checkpoint: [TaskRecord]) -> [String] {
        var lines: [String] = []
        if replay.count != checkpoint.count {
            lines.append("tasks: replay has \(replay.count), checkpoint \(checkpoint.count)")
        }
        for (a, b) in zip(replay, checkpoint) where a != b {
            for (x, y) in zip(Mirror(reflecting: a).children, Mirror(reflecting: b).children) {
                guard let label = x.label, !isEqual(x.value, y.value) else { continue }
                lines.append("tasks[\(a.id)].\(label): replay \(describe(x.value)), checkpoint \(describe(y.value))")
            }
        }
        return lines
    }

    /// `==` when the values are `Equatable` (every field of the core's records is), else their descriptions.
    static func isEqual(_ a: Any, _ b: Any) -> Bool {
        guard let a = a as? any Equatable else { return String(describing: a) == String(describing: b) }
        return a.isEqual(to: b)
    }

    /// A value for a one-line report: `nil` for none, optionals unwrapped, long values cut.
    static func describe(_ value: Any) -> String {
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            guard let wrapped = mirror.children.first?.value else { return "nil" }
            return describe(wrapped)
        }
        let text = value is String ? "\"\(value)\"" : String(describing: value)
        return text.count > 120 ? text.prefix(117) + "..." : text
    }
}

extension Equatable {
    fileprivate func isEqual(to other: Any) -> Bool { (other as? Self) == self }
}
