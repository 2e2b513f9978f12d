/// The key layout of the journal's databases (format 1).
///
/// - `events`: the 8-byte big-endian `seq`, so LMDB's byte order is seq order and appends go to the end.
/// - `by_workflow`: the workflow id's UTF-8, a 0x00 byte, then the 8-byte big-endian `seq`; the value is empty.
///   An id too long for an LMDB key is cut to `maxKeySize - 9` bytes and its full UTF-8 becomes the value, so a
///   lookup can tell it from a shorter id that equals the cut. An id containing 0x00 is told apart by key length.
enum JournalKey {
    /// The bytes of `seq`, most significant first.
    static func seq(_ seq: UInt64) -> [UInt8] {
        [UInt8](capacity: 8) { out in out.appendBigEndian(seq) }
    }

    /// Writes the `by_workflow` key of record `seq` of workflow `id` into `key` (replacing its contents, keeping its
    /// buffer) and returns the entry's value: the same bytes as `Workflow(id, maxKeySize:).key(seq)` and `.marker`,
    /// without the arrays that builds, for the commit path that writes one entry per record.
    static func index(_ id: String, seq: UInt64, maxKeySize: Int, into key: inout [UInt8]) -> [UInt8] {
        key.removeAll(keepingCapacity: true)
        return appendIndex(id, seq: seq, maxKeySize: maxKeySize, to: &key)
    }

    /// `index(_:seq:maxKeySize:into:)` appending the key to what `key` holds, for keys packed in one buffer.
    static func appendIndex(_ id: String, seq: UInt64, maxKeySize: Int, to key: inout [UInt8]) -> [UInt8] {
        let utf8 = id.utf8
        let room = maxKeySize - 9
        let marker: [UInt8]
        if utf8.count > room {
            key.append(contentsOf: utf8.prefix(room))
            marker = Array(utf8)
        } else {
            key.append(contentsOf: utf8)
            marker = []
        }
        key.append(addingCapacity: 9) { out in
            out.append(0)
            out.appendBigEndian(seq)
        }
        return marker
    }

    /// The seq of a key made by `seq(_:)`, or `nil` unless `bytes` is 8 bytes long.
    static func seq(decoding bytes: some Collection<UInt8>) -> UInt64? {
        guard bytes.count == 8 else { return nil }
        return bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// The part of a `by_workflow` key before the seq, and the value its entries carry.
    struct Workflow {
        /// The (possibly cut) id bytes and the 0x00 separator.
        let prefix: [UInt8]
        /// Empty, or the full id when it was cut.
        let marker: [UInt8]

        init(_ id: String, maxKeySize: Int) {
            let idBytes = Array(id.utf8)
            let room = maxKeySize - 9
            if idBytes.count > room {
                prefix = idBytes.prefix(room) + [0]
                marker = idBytes
            } else {
                prefix = idBytes + [0]
                marker = []
            }
        }

        /// The key of this workflow's record `seq`.
        func key(_ seq: UInt64) -> [UInt8] { prefix + JournalKey.seq(seq) }

        /// The seq of an entry of this workflow, or `nil` for an entry of another workflow sharing the prefix.
        func seq(ofKey key: [UInt8], value: [UInt8]) -> UInt64? {
            guard key.count == prefix.count + 8, value == marker else { return nil }
            return JournalKey.seq(decoding: key.suffix(8))
        }
    }
}
