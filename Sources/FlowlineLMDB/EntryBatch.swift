/// Key–value entries bound for one database, their keys packed back to back in one buffer.
///
/// Built for `WriteTransaction.put(_:in:)`, which stores them with one cursor: a key per entry would be an
/// allocation per entry, and sorted entries let that cursor skip most of the B-tree searches.
public struct EntryBatch {
    struct Entry {
        var key: Range<Int>
        var value: [UInt8]
        /// The key's first 8 bytes, most significant first and zero-padded: most comparisons end on it.
        var prefix: UInt64
    }

    /// Every key, back to back.
    private(set) var keys: [UInt8] = []
    private(set) var entries: [Entry] = []

    /// An empty batch.
    public init() {}

    /// The number of entries.
    public var count: Int { entries.count }

    /// Empties the batch, keeping its buffers for the next one.
    public mutating func removeAll() {
        keys.removeAll(keepingCapacity: true)
        entries.removeAll(keepingCapacity: true)
    }

    /// Adds an entry: `write` appends its key to the buffer it is given (leaving what is there) and returns its
    /// value.
    public mutating func append(_ write: (inout [UInt8]) -> [UInt8]) {
        let start = keys.count
        let value = write(&keys)
        precondition(keys.count >= start, "EntryBatch.append: the key writer removed bytes")
        entries.append(Entry(key: start..<keys.count, value: value, prefix: Self.prefix(of: keys, from: start)))
    }

    private static func prefix(of keys: borrowing [UInt8], from start: Int) -> UInt64 {
        let end = min(start + 8, keys.count)
        let span = keys.span
        var prefix: UInt64 = 0
        for i in start..<end { prefix = prefix << 8 | UInt64(span[i]) }
        return end - start == 8 ? prefix : prefix << UInt64(8 * (8 - (end - start)))
    }

    /// The key of entry `i`.
    public func key(at i: Int) -> ArraySlice<UInt8> { keys[entries[i].key] }

    /// The value of entry `i`.
    public func value(at i: Int) -> [UInt8] { entries[i].value }

    /// Orders the entries by key as LMDB's default comparison does (bytes compared as unsigned, a prefix first).
    /// Entries with equal keys may change places; only the last of them put would be kept.
    public mutating func sortByKey() {
        guard entries.count > 1 else { return }
        let keys = self.keys
        entries.sort { a, b in
            if a.prefix != b.prefix { return a.prefix < b.prefix }
            return Self.precedes(a.key, b.key, in: keys)
        }
    }

    private static func precedes(_ a: Range<Int>, _ b: Range<Int>, in keys: [UInt8]) -> Bool {
        let n = min(a.count, b.count)
        var i = 0
        while i < n {
            let x = keys[a.lowerBound + i]
            let y = keys[b.lowerBound + i]
            if x != y { return x < y }
            i += 1
        }
        return a.count < b.count
    }
}
