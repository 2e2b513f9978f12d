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

/// The ready tasks of one queue, in run order. Entries are never removed in place: an entry whose task has
/// moved on (or been queued again under a newer ticket) is stale and dropped when it reaches the top.
///
/// One first-in-first-out list per priority, not a heap: tickets are handed out in increasing order and every
/// push (live, replayed or restored) comes with a newer ticket than the entries already queued, so appending keeps
/// each list in ticket order, and taking the head of the highest priority's list costs the same at any length,
/// where a heap of a thousand entries moved one ten levels down per pop.
struct ReadyQueue: Sendable {
    /// The entries of one priority, from `head` on in ticket order; those before `head` were taken.
    private struct Level: Sendable {
        var priority: Int
        var entries: [ReadyEntry]
        var head = 0

        /// Appends `entry`, or inserts it in ticket order should its ticket not be the newest.
        mutating func insert(_ entry: ReadyEntry) {
            guard let last = entries.last, entry.ticket < last.ticket else {
                entries.append(entry)
                return
            }
            var low = head
            var high = entries.count
            while low < high {
                let middle = (low + high) / 2
                if entries[middle].ticket < entry.ticket { low = middle + 1 } else { high = middle }
            }
            entries.insert(entry, at: low)
        }

        /// Drops every entry, taken or not, keeping the storage.
        mutating func empty() {
            // Element by element: removeAll(keepingCapacity:) goes through the generic replaceSubrange.
            while !entries.isEmpty { entries.removeLast() }
            head = 0
        }

        /// Drops the taken entries once they are most of the list, so that a long-lived queue does not keep every entry
        /// it ever held; each entry is moved once per doubling, as an array grows.
        mutating func compactIfWasteful() {
            guard head >= 64 && head * 2 >= entries.count else { return }
            entries.removeFirst(head)
            head = 0
        }
    }

    /// By priority, lowest first, so that the top is the last level's head. A level is dropped when it runs out,
    /// unless it is the only one: a queue that empties and fills again keeps that level's storage.
    private var levels: [Level] = []
    private var count = 0

    var isEmpty: Bool { count == 0 }

    var top: ReadyEntry? {
        guard count > 0 else { return nil }
        let l = levels.count - 1
        return levels[l].entries[levels[l].head]
    }

    /// The queued entries, in no particular order.
    var entries: [ReadyEntry] {
        var all: [ReadyEntry] = []
        for level in levels { all += level.entries[level.head...] }
        return all
    }

    mutating func push(_ entry: ReadyEntry) {
        // The level kept when the queue ran out takes the priority of whatever comes next.
        if count == 0 && levels.count == 1 { levels[0].priority = entry.priority }
        count += 1
        let l = levelPosition(entry.priority)
        if l < levels.count && levels[l].priority == entry.priority {
            levels[l].insert(entry)
        } else {
            levels.insert(Level(priority: entry.priority, entries: [entry]), at: l)
        }
    }

    /// Drops the top entry.
    mutating func pop() {
        guard count > 0 else { return }
        count -= 1
        let l = levels.count - 1
        levels[l].head += 1
        if levels[l].head == levels[l].entries.count {
            if levels.count == 1 {
                levels[l].empty()
            } else {
                levels.removeLast()
            }
        } else {
            levels[l].compactIfWasteful()
        }
    }

    /// Where the level of `priority` is in `levels`, or where it would go.
    private func levelPosition(_ priority: Int) -> Int {
        // Most queues use one priority: its level is the last one.
        if let last = levels.last, last.priority == priority { return levels.count - 1 }
        var low = 0
        var high = levels.count
        while low < high {
            let middle = (low + high) / 2
            if levels[middle].priority < priority { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
