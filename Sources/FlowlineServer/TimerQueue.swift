import FlowlineCore

/// The coordinator's timers, kept in a heap behind one libuv timer. Entries are never cancelled: the
/// coordinator ignores a firing that no longer matters, so a stale entry costs one call.
struct TimerQueue {
    private var heap: [(at: Instant, order: UInt64, id: TimerID)] = []
    private var counter: UInt64 = 0

    var earliest: Instant? { heap.first?.at }
    var count: Int { heap.count }

    mutating func add(_ id: TimerID, at: Instant) {
        counter += 1
        heap.append((at, counter, id))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard before(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns every timer due at `now`, earliest first.
    mutating func popDue(at now: Instant) -> [TimerID] {
        var due: [TimerID] = []
        while let first = heap.first, first.at <= now {
            due.append(first.id)
            heap.swapAt(0, heap.count - 1)
            heap.removeLast()
            siftDown()
        }
        return due
    }

    private mutating func siftDown() {
        var parent = 0
        while true {
            let left = 2 * parent + 1
            var best = parent
            if left < heap.count && before(heap[left], heap[best]) { best = left }
            if left + 1 < heap.count && before(heap[left + 1], heap[best]) { best = left + 1 }
            if best == parent { return }
            heap.swapAt(parent, best)
            parent = best
        }
    }

    private func before(
        _ a: (at: Instant, order: UInt64, id: TimerID),
        _ b: (at: Instant, order: UInt64, id: TimerID)
    ) -> Bool {
        a.at != b.at ? a.at < b.at : a.order < b.order
    }
}
