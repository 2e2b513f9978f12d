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

/// What sets one group of a queue's ready tasks apart for dispatch: the handler a worker must offer, the limit keys
/// the run counts against, and the fairness key it takes turns under. Tasks that differ in any of these are held
/// back for different reasons, so each group gets its own lane and one held lane never stands in front of another.
struct LaneKey: Hashable, Sendable {
    var handler: String
    var limits: [String]
    var fairness: String
}

/// The ready tasks of one queue, split into lanes by `LaneKey`. Dispatch takes the best head among the lanes a
/// worker may take: higher priority first, then the fairness key served longest ago (round-robin across keys),
/// then first come. A queue whose tasks share one handler, no limits and no fairness key has one lane, and costs
/// what a single `ReadyQueue` did.
///
/// Choosing looks at every lane's head, so it costs in the number of lanes (handlers × limit sets × fairness keys
/// with tasks queued); lanes that run out are dropped, so only keys with tasks queued count.
struct QueueLanes: Sendable {
    struct Lane: Sendable {
        var key: LaneKey
        var entries = ReadyQueue()
        /// When a lane of this fairness key was last dispatched from (`QueueLanes.served`); 0 for never.
        var served: UInt64 = 0
    }

    private(set) var lanes: [Lane] = []
    /// Position of each lane in `lanes`, kept only once there are two (one lane is found by comparing its key).
    private var positions: [LaneKey: Int] = [:]
    /// Counts dispatches, for the fairness order.
    private var served: UInt64 = 0
    /// Entries queued in all lanes, stale ones included.
    private var count = 0

    var isEmpty: Bool { count == 0 }

    /// The queued entries of every lane, in no particular order.
    var entries: [ReadyEntry] { lanes.flatMap(\.entries.entries) }

    mutating func push(_ entry: ReadyEntry, _ key: LaneKey) {
        count += 1
        if lanes.count == 1 && lanes[0].key == key {
            lanes[0].entries.push(entry)
            return
        }
        if let l = lanes.count == 1 ? nil : positions[key] {
            lanes[l].entries.push(entry)
            return
        }
        // A new lane of a fairness key already queued takes that key's turn; a new key goes before any served one.
        let served = lanes.first { $0.key.fairness == key.fairness }?.served ?? 0
        if lanes.count == 1 && lanes[0].entries.isEmpty {
            // The only lane ran out: it gives its place (and storage) to the new key.
            lanes[0].key = key
            lanes[0].served = served
            lanes[0].entries.push(entry)
            return
        }
        var lane = Lane(key: key, served: served)
        lane.entries.push(entry)
        if lanes.count == 1 { positions[lanes[0].key] = 0 }
        positions[key] = lanes.count
        lanes.append(lane)
    }

    /// The lane whose head runs next among those `eligible` accepts, or nil when none has an entry.
    func best(where eligible: (LaneKey) -> Bool) -> Int? {
        if lanes.count == 1 { return !lanes[0].entries.isEmpty && eligible(lanes[0].key) ? 0 : nil }
        var best: Int?
        var bestEntry: ReadyEntry?
        for l in lanes.indices {
            guard let head = lanes[l].entries.top, eligible(lanes[l].key) else { continue }
            if let b = best, let be = bestEntry {
                if head.priority != be.priority {
                    guard head.priority > be.priority else { continue }
                } else if lanes[l].served != lanes[b].served {
                    guard lanes[l].served < lanes[b].served else { continue }
                } else if head.ticket > be.ticket {
                    continue
                }
            }
            best = l
            bestEntry = head
        }
        return best
    }

    func head(of lane: Int) -> ReadyEntry? { lanes[lane].entries.top }

    /// Drops the head of `lane`; `dispatched` when it was handed out, which moves its fairness key to the back.
    /// The lane goes when it runs out (unless it is the only one), which moves the last lane into its place.
    mutating func pop(_ lane: Int, dispatched: Bool) {
        guard !lanes[lane].entries.isEmpty else { return }
        count -= 1
        lanes[lane].entries.pop()
        if dispatched && lanes.count > 1 {
            served += 1
            let fairness = lanes[lane].key.fairness
            for l in lanes.indices where lanes[l].key.fairness == fairness { lanes[l].served = served }
        }
        guard lanes[lane].entries.isEmpty, lanes.count > 1 else { return }
        positions[lanes[lane].key] = nil
        let last = lanes.count - 1
        if lane != last {
            lanes.swapAt(lane, last)
            positions[lanes[lane].key] = lane
        }
        lanes.removeLast()
        if lanes.count == 1 { positions = [:] }
    }
}
