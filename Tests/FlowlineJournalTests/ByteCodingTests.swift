import FlowlineCore
import Testing

@testable import FlowlineJournal

/// The record encoding written out by hand, the slow way: what `ByteWriter` must keep producing.
private func bigEndian(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (56 - 8 * UInt64($0))) } }

private func fnv1a(_ bytes: [UInt8], into hash: inout UInt64) {
    for b in bytes {
        hash ^= UInt64(b)
        hash &*= 0x100_0000_01b3
    }
}

struct ByteCodingTests {
    @Test(
        "strings, blobs and integers are written as the format says, across every growth of the buffer",
        arguments: [0, 1, 7, 8, 9, 63, 64, 65, 127, 128, 129, 300]
    )
    func writerMatchesTheFormat(length: Int) throws {
        let text = String(repeating: "é", count: length / 2) + String(repeating: "x", count: length % 2)
        let blob = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        // A lead of 0...16 bytes moves each field across the initial capacity and each doubling.
        for lead in 0...16 {
            var w = ByteWriter(capacity: 16)
            var expected: [UInt8] = []
            for i in 0..<lead {
                w.u8(UInt8(i))
                expected.append(UInt8(i))
            }
            let integers: [UInt64] = [0, 1, 0x0102_0304_0506_0708, .max, UInt64(bitPattern: Int64.min)]
            for v in integers {
                w.u64(v)
                expected += bigEndian(v)
            }
            w.string(text)
            expected += bigEndian(UInt64(text.utf8.count)) + Array(text.utf8)
            w.blob(blob)
            expected += bigEndian(UInt64(blob.count)) + blob
            w.i64(-2)
            expected += bigEndian(UInt64(bitPattern: -2))
            w.double(-0.5)
            expected += bigEndian((-0.5).bitPattern)
            w.bool(true)
            expected.append(1)
            #expect(w.bytes == expected, "lead \(lead)")

            var r = ByteReader(w.bytes)
            for i in 0..<lead { #expect(try r.u8() == UInt8(i)) }
            for v in integers { #expect(try r.u64() == v) }
            #expect(try r.string() == text)
            #expect(try r.blob() == blob)
            #expect(try r.i64() == -2)
            #expect(try r.double() == -0.5)
            #expect(try r.bool())
            let isAtEnd = r.isAtEnd  // #expect cannot look into a non-escapable value.
            #expect(isAtEnd)
        }
    }

    @Test("strings decode from a view: short and long, ASCII or not; bytes that are not UTF-8 become U+FFFD")
    func stringsDecodeFromAView() throws {
        let texts = [
            "", "t", "noop", "wf-123456", "exactly16bytes!!", String(repeating: "long-id-", count: 12), "wörk/é",
        ]
        var w = ByteWriter()
        for text in texts { w.string(text) }
        w.u64(3)
        w.u8(0x66)
        w.u8(0xFF)
        w.u8(0x6F)
        var r = ByteReader(w.bytes.span)
        for text in texts { #expect(try r.string() == text) }
        #expect(try r.string() == "f\u{FFFD}o")
        let isAtEnd = r.isAtEnd
        #expect(isAtEnd)
    }

    @Test("a length or count that runs past the record is corrupt, however large")
    func hugeLengthsAreCorrupt() {
        var w = ByteWriter()
        w.u8(EventCodec.version)
        w.u8(8)
        w.i64(0)
        for length in [9, UInt64(Int.max), UInt64(Int.max) + 1, .max] {
            var record = w
            record.u64(length)
            record.u8(UInt8(ascii: "w"))
            let error = #expect(throws: JournalError.self) { try EventCodec.decode(record.bytes) }
            #expect(error?.code == .corrupt, "length \(length)")
        }
    }

    @Test("an index key built in place equals the one JournalKey.Workflow builds, cut ids included")
    func indexKeys() {
        let maxKeySize = 511
        let room = maxKeySize - 9
        let ids = [
            "", "wf-1", "wörk\u{0}flow", String(repeating: "a", count: room), String(repeating: "a", count: room + 1),
            String(repeating: "é", count: room),
        ]
        var key: [UInt8] = [9, 9, 9]
        for id in ids {
            for seq: UInt64 in [1, 0x0102_0304_0506_0708, .max] {
                let workflow = JournalKey.Workflow(id, maxKeySize: maxKeySize)
                let marker = JournalKey.index(id, seq: seq, maxKeySize: maxKeySize, into: &key)
                #expect(key == workflow.key(seq))
                #expect(marker == workflow.marker)
                #expect(workflow.seq(ofKey: key, value: marker) == seq)
            }
        }
        #expect(JournalKey.seq(0x0102_0304_0506_0708) == [1, 2, 3, 4, 5, 6, 7, 8])
    }

    @Test("event records are byte for byte what format 2 wrote when it was fixed")
    func eventRecordsAreUnchanged() throws {
        let long = String(repeating: "long-id-", count: 12)
        let extra: [Event] = [
            .taskDispatched(
                WorkflowID(long),
                TaskID(long + "/t"),
                lease: LeaseID(.max),
                worker: long,
                kind: .poll,
                at: .zero
            ),
            .taskCompleted(
                WorkflowID("w"),
                TaskID("t"),
                result: RawJSON(bytes: Array(long.utf8)),
                at: Instant(milliseconds: -1)
            ),
        ]
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var total = 0
        for event in EventCodecTests.events + extra {
            let bytes = EventCodec.encode(event)
            fnv1a(bigEndian(UInt64(bytes.count)) + bytes, into: &hash)
            total += bytes.count
            #expect(try EventCodec.decode(bytes) == event)
        }
        // Computed with the encoder as it was when format 2 was fixed (format 1's were 2286 and
        // 11_256_450_373_144_513_296; its records are read from Fixtures/format-1 in FormatVersionOneTests).
        #expect(total == 2326)
        #expect(hash == 2_890_531_392_294_638_901)
    }

    @Test("workflow snapshots are byte for byte what format 2 wrote when it was fixed")
    func snapshotsAreUnchanged() {
        var workflow = Workflow(id: WorkflowID("wf-1"), spec: EventCodecTests.spec, at: Instant(milliseconds: 1_000))
        workflow.finishedAt = Instant(milliseconds: 2_000)
        workflow.error = TaskError(type: "boom", message: String(repeating: "m", count: 70), retryable: true)
        let bytes = SnapshotCodec.encode(workflow)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        fnv1a(bytes, into: &hash)
        // Format 1's were 227 and 11_023_331_091_497_403_540.
        #expect(bytes.count == 235)
        #expect(hash == 1_165_387_614_822_028_209)
    }

    @Test("a string table gives back what decoding the bytes gives, for every run it keeps or does not")
    func stringTableMatchesDecoding() {
        var runs: [[UInt8]] = [[], [0], [0, 0], Array("wf-1".utf8), Array("wf-10".utf8), Array("default".utf8)]
        runs += [Array("wf-12345".utf8), Array("wf-123456".utf8), Array("abcdefghijklmno".utf8)]
        runs += [Array("abcdefghijklmnop".utf8), [0xFF, 0x41], [0x41, 0xFF], Array("é".utf8)]
        // Enough distinct runs that slots are taken over by others and then asked for again.
        runs += (0..<3000).map { Array("wf-\($0)".utf8) }
        var table = StringTable.keeping()
        for round in 0..<2 {
            for run in runs {
                let expected = ByteReader.makeString(run.span)
                #expect(table.string(run.span) == expected, "round \(round), \(run)")
                #expect(Array(table.string(run.span).utf8) == Array(expected.utf8))
            }
        }
        var keepsNothing = StringTable()
        #expect(keepsNothing.string(Array("wf-1".utf8).span) == "wf-1")
    }
}
