/// The tags of extension entries: fields added to a spec, a snapshot or the checkpoint's globals after format 2.
///
/// Format 2 ends each workflow spec, task spec, workflow snapshot, task snapshot and the globals with a list of
/// entries, `[count u64]` then each `[tag u8][length u64][fields]`, written only for fields that are set. A field
/// added later is a new tag here, so no layout ever changes again and a record without the field reads as before.
/// A tag this build does not know is a record of a newer build: `unsupportedFormat`, never a field dropped.
///
/// Ranges keep features apart: 1–29 the base, 30–39 schedules and delayed starts, 40–49 limits, fairness and
/// pause, 50–59 reruns and trigger rules, 60–69 future resolutions.
enum ExtensionTag: UInt8 {
    /// A workflow's `metadata` (spec and snapshot).
    case metadata = 1
}

/// The entries one extension list is being written with.
struct ExtensionList {
    fileprivate var count = 0
    fileprivate var writer = ByteWriter(capacity: 0)

    /// Adds the entry `tag` with what `write` writes as its fields.
    mutating func entry(_ tag: ExtensionTag, _ write: (inout ByteWriter) -> Void) {
        writer.u8(tag.rawValue)
        let lengthAt = writer.bytes.count
        writer.u64(0)
        write(&writer)
        let length = UInt64(writer.bytes.count - lengthAt - 8)
        for i in 0..<8 { writer.bytes[lengthAt + i] = UInt8(truncatingIfNeeded: length >> (56 - 8 * UInt64(i))) }
        count += 1
    }
}

extension ByteWriter {
    /// Writes the extension list `body` fills (format 2). A list with no entry is its 8-byte count alone.
    mutating func extensions(_ body: (inout ExtensionList) -> Void) {
        var list = ExtensionList()
        body(&list)
        u64(UInt64(list.count))
        if list.count > 0 { bytes.append(contentsOf: list.writer.bytes) }
    }
}

extension ByteReader {
    /// Reads an extension list (format 2), calling `body` with each entry's tag to read its fields from `self`
    /// (`body` throws `corrupt` for a tag that has no place where it is). An entry must be read to its last byte.
    mutating func extensions(
        _ body: (ExtensionTag, inout ByteReader) throws(JournalError) -> Void
    ) throws(JournalError) {
        let n = try u64()
        guard n <= UInt64(bytes.count - offset) / 9 else {
            throw JournalError(.corrupt, "extension count past the record's end")
        }
        for _ in 0..<n {
            let raw = try u8()
            let length = try u64()
            guard length <= UInt64(bytes.count - offset) else {
                throw JournalError(.corrupt, "extension entry past the record's end")
            }
            let end = offset + Int(length)
            guard let tag = ExtensionTag(rawValue: raw) else {
                throw JournalError(
                    .unsupportedFormat,
                    "field tag \(raw) was written by a newer build of flowlined; this build cannot read it"
                )
            }
            try body(tag, &self)
            guard offset == end else { throw JournalError(.corrupt, "extension entry \(raw) has the wrong length") }
        }
    }
}
