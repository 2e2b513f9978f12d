/// One entry of a queue: higher priority first, then first come (lower ticket) first.
struct ReadyEntry: Hashable, Sendable {
    var priority: Int
    var ticket: UInt64
    var workflow: WorkflowID
    var task: Int

    func runsBefore(_ other: ReadyEntry) -> Bool {
        priority != other.priority ? priority > other.priority : ticket < other.ticket
    }
}

/// A binary heap of ready tasks for one queue. Entries are never removed in place: an entry whose task has
/// moved on (or been queued again under a newer ticket) is stale and dropped when it reaches the top.
struct ReadyQueue: Sendable {
    private(set) var entries: [ReadyEntry] = []

    var isEmpty: Bool { entries.isEmpty }
    var top: ReadyEntry? { entries.first }

    mutating func push(_ entry: ReadyEntry) {
        entries.append(entry)
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].runsBefore(entries[parent]) else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    @discardableResult
    mutating func pop() -> ReadyEntry? {
        guard !entries.isEmpty else { return nil }
        entries.swapAt(0, entries.count - 1)
        let first = entries.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var best = parent
            if left < entries.count && entries[left].runsBefore(entries[best]) { best = left }
            if right < entries.count && entries[right].runsBefore(entries[best]) { best = right }
            if best == parent { break }
            entries.swapAt(parent, best)
            parent = best
        }
        return first
    }
}
