/// Appends fixed-width big-endian integers and length-prefixed bytes: the journal's record encoding.
struct ByteWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 128) { bytes.reserveCapacity(capacity) }

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func bool(_ v: Bool) { bytes.append(v ? 1 : 0) }

    // Each write appends through one OutputSpan: one capacity check and one uniqueness check for all its bytes,
    // where a zero-filled append then stores cost two generic calls, and eight appends eight checks.

    mutating func u64(_ v: UInt64) {
        bytes.append(addingCapacity: 8) { out in out.appendBigEndian(v) }
    }

    mutating func i64(_ v: Int64) { u64(UInt64(bitPattern: v)) }
    mutating func int(_ v: Int) { i64(Int64(v)) }
    mutating func double(_ v: Double) { u64(v.bitPattern) }

    mutating func blob(_ v: [UInt8]) {
        guard v.count <= Self.copyLimit else {
            u64(UInt64(v.count))
            return bytes.append(contentsOf: v)
        }
        shortRun(v.span)
    }

    mutating func string(_ v: String) {
        let utf8 = v.utf8
        guard utf8.count <= Self.copyLimit else {
            u64(UInt64(utf8.count))
            return bytes.append(contentsOf: utf8)
        }
        shortRun(utf8.span)
    }

    /// The u64 length, then the bytes, in one OutputSpan: for the short runs most strings are (ids, names), this
    /// is cheaper than a block append's setup. Longer runs are appended as a block, which is a memcpy.
    private mutating func shortRun(_ source: Span<UInt8>) {
        bytes.append(addingCapacity: 8 + source.count) { out in out.appendRun(source) }
    }

    /// `string(a)` then `string(b)`, in one OutputSpan when both are short: a workflow id and a task id, which
    /// most events begin with.
    mutating func strings(_ a: String, _ b: String) {
        guard a.utf8.count <= Self.copyLimit && b.utf8.count <= Self.copyLimit else {
            string(a)
            string(b)
            return
        }
        let first = a.utf8.span
        let second = b.utf8.span
        bytes.append(addingCapacity: 16 + first.count + second.count) { out in
            out.appendRun(first)
            out.appendRun(second)
        }
    }

    /// `u8(a)`, `u8(b)` and `u64(c)` in one OutputSpan: every record's version, type and time.
    mutating func u8u8u64(_ a: UInt8, _ b: UInt8, _ c: UInt64) {
        bytes.append(addingCapacity: 10) { out in
            out.append(a)
            out.append(b)
            out.appendBigEndian(c)
        }
    }

    /// Four u64s in one OutputSpan (a retry policy's fields).
    mutating func u64s(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ d: UInt64) {
        bytes.append(addingCapacity: 32) { out in
            out.appendBigEndian(a)
            out.appendBigEndian(b)
            out.appendBigEndian(c)
            out.appendBigEndian(d)
        }
    }

    private static var copyLimit: Int { 64 }

    mutating func optional<T>(_ v: T?, _ write: (inout ByteWriter, T) -> Void) {
        if let v {
            u8(1)
            write(&self, v)
        } else {
            u8(0)
        }
    }
}

extension OutputSpan<UInt8> {
    /// Appends `v` most significant byte first; the span must have room for 8 more.
    @inline(__always) mutating func appendBigEndian(_ v: UInt64) {
        append(UInt8(truncatingIfNeeded: v >> 56))
        append(UInt8(truncatingIfNeeded: v >> 48))
        append(UInt8(truncatingIfNeeded: v >> 40))
        append(UInt8(truncatingIfNeeded: v >> 32))
        append(UInt8(truncatingIfNeeded: v >> 24))
        append(UInt8(truncatingIfNeeded: v >> 16))
        append(UInt8(truncatingIfNeeded: v >> 8))
        append(UInt8(truncatingIfNeeded: v))
    }

    /// Appends the u64 length of `source`, then its bytes; the span must have room for 8 + `source.count` more.
    @inline(__always) mutating func appendRun(_ source: Span<UInt8>) {
        appendBigEndian(UInt64(source.count))
        for i in source.indices { append(source[i]) }
    }
}

/// Reads what `ByteWriter` wrote; every read checks bounds and throws on a short or corrupt record.
///
/// Reads a view, not an array, so that replay decodes each record where LMDB keeps it instead of copying it out
/// first; the view (and so the reader) cannot outlive the bytes it looks at.
struct ByteReader: ~Escapable {
    let bytes: Span<UInt8>
    var offset = 0
    /// Short strings decoded lately, reused when the same bytes come again (empty: none kept).
    var strings = StringTable()
    /// The format of the record being read, as its version byte says (1 has no extension lists).
    var format: UInt8 = 2

    @_lifetime(copy bytes)
    init(_ bytes: Span<UInt8>, strings: consuming StringTable = StringTable()) {
        self.bytes = bytes
        self.strings = strings
    }

    @_lifetime(borrow bytes)
    init(_ bytes: borrowing [UInt8]) { self.bytes = bytes.span }

    var isAtEnd: Bool { offset == bytes.count }

    mutating func u8() throws(JournalError) -> UInt8 {
        guard offset < bytes.count else { throw JournalError(.corrupt, "record ends early") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func bool() throws(JournalError) -> Bool { try u8() != 0 }

    @inline(__always)
    mutating func u64() throws(JournalError) -> UInt64 {
        guard offset <= bytes.count &- 8 else { throw JournalError(.corrupt, "record ends early") }
        // One slice, whose eight reads the optimizer can see are in bounds: a check per byte cost more than the
        // shifts.
        let field = bytes.extracting(offset..<offset &+ 8)
        offset &+= 8
        var v: UInt64 = 0
        for i in 0..<8 { v = v &<< 8 | UInt64(field[i]) }
        return v
    }

    mutating func i64() throws(JournalError) -> Int64 { Int64(bitPattern: try u64()) }
    mutating func int() throws(JournalError) -> Int { Int(truncatingIfNeeded: try i64()) }
    mutating func double() throws(JournalError) -> Double { Double(bitPattern: try u64()) }

    /// The next length-prefixed run of bytes, as a view of the record.
    @inline(__always)
    @_lifetime(copy self)
    private mutating func run() throws(JournalError) -> Span<UInt8> {
        let count = try u64()
        guard count <= UInt64(bytes.count &- offset) else {
            throw JournalError(.corrupt, "length past the record's end")
        }
        defer { offset &+= Int(count) }
        return bytes.extracting(offset..<offset &+ Int(count))
    }

    mutating func blob() throws(JournalError) -> [UInt8] {
        let run = try run()
        // The most common payloads (an input of `{}`, a result of `null`) share one array each instead of taking an
        // allocation per record: replay keeps every one of them.
        if run.count == 2 && run[0] == UInt8(ascii: "{") && run[1] == UInt8(ascii: "}") {
            return Self.emptyObject
        }
        if run.count == 4 && run[0] == UInt8(ascii: "n") && run[1] == UInt8(ascii: "u") && run[2] == UInt8(ascii: "l")
            && run[3] == UInt8(ascii: "l")
        {
            return Self.null
        }
        return [UInt8](capacity: run.count) { out in
            for i in run.indices { out.append(run[i]) }
        }
    }

    private static let emptyObject = Array("{}".utf8)
    private static let null = Array("null".utf8)

    /// A string. The journal wrote valid UTF-8 (it came through the codec or the core); should a corrupt byte
    /// slip in, it becomes U+FFFD, not a trap.
    mutating func string() throws(JournalError) -> String {
        let run = try run()
        return strings.string(run)
    }

    static func makeString(_ run: Span<UInt8>) -> String {
        if let valid = try? UTF8Span(validating: run) { return String(copying: valid) }
        let bytes = [UInt8](capacity: run.count) { out in
            for i in run.indices { out.append(run[i]) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    mutating func optional<T>(_ read: (inout ByteReader) throws(JournalError) -> T) throws(JournalError) -> T? {
        try u8() == 0 ? nil : try read(&self)
    }
}

/// The short strings (ids, handler and queue names, worker names) a replay decoded lately, by their bytes: a
/// journal names the same ones record after record (a workflow's id in each of its events), and finding one here
/// costs a third of validating and building it again. A table of 1,024 slots, each keeping the last string whose
/// bytes hashed to it; a new table keeps nothing (`init()` allocates nothing, for one-off decodes).
struct StringTable {
    /// A string of at most 15 bytes (which Swift keeps inline, without an allocation) and its bytes, packed as
    /// `key` does.
    private struct Entry {
        var low: UInt64
        var high: UInt64
        var string: String
    }

    private var entries: [Entry] = []

    init() {}

    /// A table that keeps strings. Every slot starts as the empty string, whose key is (0, 0).
    static func keeping() -> StringTable {
        var table = StringTable()
        table.entries = Array(repeating: Entry(low: 0, high: 0, string: ""), count: 1024)
        return table
    }

    /// The table, leaving this one empty: a move, so that the strings are not retained and released on the way.
    mutating func take() -> StringTable {
        var taken = StringTable()
        swap(&self, &taken)
        return taken
    }

    /// The string `run` holds, as `ByteReader.makeString` makes it.
    mutating func string(_ run: Span<UInt8>) -> String {
        guard run.count < 16 && !entries.isEmpty else { return ByteReader.makeString(run) }
        let (low, high) = Self.key(run)
        var mix = (low ^ high &>> 3) &* 0x9E37_79B9_7F4A_7C15
        mix ^= mix &>> 29
        let slot = Int(truncatingIfNeeded: mix &>> 54)
        if entries[slot].low == low && entries[slot].high == high { return entries[slot].string }
        let string = ByteReader.makeString(run)
        entries[slot] = Entry(low: low, high: high, string: string)
        return string
    }

    /// The bytes of a run of at most 15, little-endian in two words, with the length in the top byte of the second:
    /// two runs have the same key exactly when they have the same bytes.
    private static func key(_ run: Span<UInt8>) -> (UInt64, UInt64) {
        var low: UInt64 = 0
        var high = UInt64(run.count) &<< 56
        guard run.count >= 8 else {
            for i in run.indices { low |= UInt64(run[i]) &<< UInt64(8 &* i) }
            return (low, high)
        }
        // A fixed-width read for the first eight, which the optimizer unrolls without a check per byte.
        let head = run.extracting(0..<8)
        for i in 0..<8 { low |= UInt64(head[i]) &<< UInt64(8 &* i) }
        let tail = run.extracting(8..<run.count)
        for i in tail.indices { high |= UInt64(tail[i]) &<< UInt64(8 &* i) }
        return (low, high)
    }
}
