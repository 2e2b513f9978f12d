import FlowlineCore

/// The coordinator's timers, kept in a heap behind one libuv timer, by when they are due on the loop's monotonic
/// clock (milliseconds of `EventLoop.now`); each keeps the wall-clock deadline it was armed for, which its firing
/// hands back to the coordinator. Entries are never cancelled: the coordinator ignores a firing that no longer
/// matters, so a stale entry costs one call.
struct TimerQueue {
    private var heap: [(due: UInt64, order: UInt64, id: TimerID, at: Instant)] = []
    private var counter: UInt64 = 0

    var earliest: UInt64? { heap.first?.due }
    var count: Int { heap.count }

    /// Adds `id`, due at `due` on the monotonic clock, armed for the wall-clock deadline `at`.
    mutating func add(_ id: TimerID, due: UInt64, at: Instant) {
        counter += 1
        heap.append((due, counter, id, at))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard before(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns every timer due at `now` (monotonic), earliest first, with the deadline each was armed
    /// for.
    mutating func popDue(at now: UInt64) -> [(id: TimerID, at: Instant)] {
        var due: [(id: TimerID, at: Instant)] = []
        while let first = heap.first, first.due <= now {
            due.append((first.id, first.at))
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
        _ a: (due: UInt64, order: UInt64, id: TimerID, at: Instant),
        _ b: (due: UInt64, order: UInt64, id: TimerID, at: Instant)
    ) -> Bool {
        a.due != b.due ? a.due < b.due : a.order < b.order
    }
}
