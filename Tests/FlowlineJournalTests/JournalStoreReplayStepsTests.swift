import FlowlineCore
import FlowlineJournal
import Testing

/// `replaySteps` decodes on a second thread a few batches ahead: what reaches the body must be exactly what a
/// plain `scan` plus `EventCodec.decode` gives, and every way of stopping must end both threads.
struct JournalStoreReplayStepsTests {
    private func events(_ count: Int) -> [Event] {
        (0..<count).map { n in
            let at = Instant(milliseconds: Int64(n))
            return n % 3 == 0
                ? .workflowCompleted(WorkflowID("w\(n)"), at: at)
                : .taskProgressed(WorkflowID("w\(n)"), TaskID("t"), progress: RawJSON("\(n)"), at: at)
        }
    }

    private func store(_ dir: String, _ events: [Event]) throws -> JournalStore {
        let store = try JournalStore(directory: dir, sync: .none)
        _ = try store.append(events.map { ($0.workflowID.rawValue, EventCodec.encode($0)) })
        return store
    }

    @Test(arguments: [0, 1, 1023, 1024, 1025, 5000])
    func givesEveryEventInSeqOrder(count: Int) throws {
        try withTemporaryDirectory { dir in
            let written = events(count)
            let store = try store(dir, written)
            var read: [Event] = []
            try store.replaySteps { step in
                read.append(step.event)
                return true
            }
            #expect(read == written)
            var tail: [Event] = []
            try store.replaySteps(from: 1001) { step in
                tail.append(step.event)
                return true
            }
            #expect(tail == Array(written.dropFirst(1000)))
        }
    }

    @Test func stopsWhenTheBodyReturnsFalseAndRethrowsItsError() throws {
        struct Stop: Error {}
        try withTemporaryDirectory { dir in
            let store = try store(dir, events(10_000))
            var seen = 0
            try store.replaySteps { _ in
                seen += 1
                return seen < 1500
            }
            #expect(seen == 1500)
            seen = 0
            #expect(throws: Stop.self) {
                try store.replaySteps { _ in
                    seen += 1
                    if seen == 3000 { throw Stop() }
                    return true
                }
            }
            #expect(seen == 3000)
            // The journal is still usable: the reading thread ended its use of the transaction.
            #expect(
                try store.append([("w", EventCodec.encode(.workflowCompleted(WorkflowID("w"), at: .zero)))]) == 10_001
            )
        }
    }

    @Test func aCorruptRecordThrowsAfterEveryEventBeforeIt() throws {
        try withTemporaryDirectory { dir in
            let written = events(3000)
            let store = try store(dir, written)
            _ = try store.append([("w", [EventCodec.version, 99])])
            _ = try store.append(events(10).map { ($0.workflowID.rawValue, EventCodec.encode($0)) })
            var read: [Event] = []
            let error = #expect(throws: JournalError.self) {
                try store.replaySteps { step in
                    read.append(step.event)
                    return true
                }
            }
            #expect(error?.code == .corrupt)
            #expect(read == written)
        }
    }

    @Test func countsTheSubmissionsFromASeq() throws {
        try withTemporaryDirectory { dir in
            let submit: (Int) -> Event = { n in
                .workflowSubmitted(
                    WorkflowSpec(name: "w", id: WorkflowID("w\(n)"), tasks: [TaskSpec(id: "t", handler: "h")]),
                    at: Instant(milliseconds: Int64(n))
                )
            }
            let written = (0..<300).flatMap { n in [submit(n)] + events(n % 4) }
            let store = try store(dir, written)
            #expect(try store.countWorkflowsSubmitted() == 300)
            let firstOfLast100 = written.firstIndex(of: submit(200))!
            #expect(try store.countWorkflowsSubmitted(from: UInt64(firstOfLast100 + 1)) == 100)
            #expect(try store.countWorkflowsSubmitted(from: UInt64(written.count + 1)) == 0)
        }
    }
}
