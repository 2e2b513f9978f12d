import FlowlineTestSupport
import Testing

@testable import FlowlineCore

struct ReadyQueueTests {
    /// Pushes and pops at random, with a few priorities and a ticket now and then older than the newest (tickets are
    /// distinct, as the coordinator hands them out), and checks every top against the entries sorted by `runsBefore`.
    @Test(arguments: [1, 2, 3])
    func popsInPriorityThenTicketOrder(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        var queue = ReadyQueue()
        var reference: [ReadyEntry] = []
        var ticket: UInt64 = 1000
        var used: Set<UInt64> = []
        for step in 0..<5000 {
            if reference.isEmpty || Int.random(in: 0..<5, using: &random) < 3 {
                ticket += 1
                var next = ticket
                if Int.random(in: 0..<20, using: &random) == 0 {
                    repeat { next = UInt64.random(in: 0..<ticket, using: &random) } while used.contains(next)
                }
                used.insert(next)
                let entry = ReadyEntry(
                    priority: Int.random(in: -1...2, using: &random),
                    ticket: next,
                    workflow: WorkflowID("w\(step)"),
                    task: step
                )
                queue.push(entry)
                reference.append(entry)
            } else {
                queue.pop()
                reference.removeFirst()
            }
            reference.sort { $0.runsBefore($1) }
            #expect(queue.top == reference.first, "seed \(seed), step \(step)")
            #expect(queue.isEmpty == reference.isEmpty)
        }
        #expect(Set(queue.entries) == Set(reference))
    }

    @Test func aQueueThatEmptiesTakesEntriesAgain() {
        var queue = ReadyQueue()
        for round in 0..<3 {
            for i in 0..<100 {
                queue.push(ReadyEntry(priority: 0, ticket: UInt64(round * 100 + i), workflow: WorkflowID("w"), task: i))
            }
            for i in 0..<100 {
                #expect(queue.top?.task == i)
                queue.pop()
            }
            #expect(queue.isEmpty)
            #expect(queue.top == nil)
            #expect(queue.entries.isEmpty)
        }
    }
}
