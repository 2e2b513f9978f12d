import FlowlineCore
import FlowlineJournal
import Foundation
import Testing

/// A journal written by flowlined 0.2.0 (record and snapshot format 1), kept in `Fixtures/format-1`: three
/// submissions, the first with metadata, a retry and a revert, and a checkpoint after them. Builds that write
/// format 2 must read it as that build did.
struct FormatVersionOneTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/format-1/data.mdb").path

    static let expected = WorkflowSpec(
        name: "etl",
        id: WorkflowID("wf-v1"),
        input: RawJSON(#"{"n":12345678901234567890}"#),
        metadata: [MetadataEntry(key: "team", value: "data"), MetadataEntry(key: "tier", value: "1")],
        tasks: [
            TaskSpec(id: "a", handler: "h", queue: "q1", retry: RetryPolicy(maxAttempts: 3)),
            TaskSpec(id: "b", handler: "h2", deps: ["a"], revert: "undo"),
        ]
    )

    /// Opens a copy of the fixture (LMDB writes its lock file beside the data).
    func withFixture<R>(_ body: (JournalStore) throws -> R) throws -> R {
        try withTemporaryDirectory { dir in
            try FileManager.default.copyItem(atPath: Self.fixture, toPath: dir + "/data.mdb")
            return try body(try JournalStore(directory: dir, sync: .full, readOnly: true))
        }
    }

    @Test func eventsOfFormatOneDecodeAsTheyWereWritten() throws {
        let events = try withFixture { store in
            var events: [Event] = []
            try store.scan { _, bytes in
                #expect(bytes.first == 1)
                events.append(try EventCodec.decode(bytes))
                return true
            }
            return events
        }
        #expect(events.count == 3)
        guard case .workflowSubmitted(let spec, _)? = events.first else {
            Issue.record("the first record is not a submission: \(events)")
            return
        }
        #expect(spec == Self.expected)
        // Written again, it is format 2 and reads back the same.
        let again = EventCodec.encode(events[0])
        #expect(again.first == EventCodec.version && EventCodec.version == 2)
        #expect(try EventCodec.decode(again) == events[0])
    }

    @Test func snapshotsOfFormatOneMatchTheReplayedEvents() throws {
        let (snapshots, events) = try withFixture { store in
            var events: [Event] = []
            try store.scan { _, bytes in
                events.append(try EventCodec.decode(bytes))
                return true
            }
            return (try store.snapshotWorkflows(), events)
        }
        var c = Coordinator()
        for event in events { c.replay(event) }
        let replayed = c.state.workflows
        #expect(snapshots.count == 3)
        for snapshot in snapshots {
            #expect(replayed[snapshot.id] == snapshot)
            #expect(try SnapshotCodec.decodeWorkflow(SnapshotCodec.encode(snapshot)) == snapshot)
        }
        #expect(snapshots.first { $0.id == WorkflowID("wf-v1") }?.metadata == Self.expected.metadata)
    }
}
