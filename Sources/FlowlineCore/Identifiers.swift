/// A workflow's id: given in the document (an idempotency key) or made by the coordinator.
public struct WorkflowID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
    public static func < (a: WorkflowID, b: WorkflowID) -> Bool { a.rawValue < b.rawValue }
}

/// A task's full id within its workflow; spawned tasks carry their parent's id and a slash (`split/chunk-3`).
public struct TaskID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
    public static func < (a: TaskID, b: TaskID) -> Bool { a.rawValue < b.rawValue }
}

/// One attempt's lease. Numbers come from a durable counter, so a lease is never reused, even across restarts.
public struct LeaseID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "L\(rawValue)" }
    public static func < (a: LeaseID, b: LeaseID) -> Bool { a.rawValue < b.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
    public func _rawHashValue(seed: Int) -> Int { IntegerIDHash.mix(rawValue, seed: seed) }

    /// Parses the wire form `L<number>`; anything else is no lease of ours.
    ///
    /// It accepts exactly what `UInt64(wire.dropFirst())` after `wire.hasPrefix("L")` would (an optional sign, then
    /// ASCII digits, with `-` only before a zero), reading the UTF-8 once: those two calls cost several hundred
    /// instructions, and every outcome a worker reports names a lease.
    public init?(wire: String) {
        var bytes = wire.utf8.makeIterator()
        guard bytes.next() == UInt8(ascii: "L") else { return nil }
        var next = bytes.next()
        let isNegative = next == UInt8(ascii: "-")
        if isNegative || next == UInt8(ascii: "+") { next = bytes.next() }
        guard next != nil else { return nil }
        var value: UInt64 = 0
        while let byte = next {
            let digit = byte &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (times10, overflowed) = value.multipliedReportingOverflow(by: 10)
            let (sum, carried) = times10.addingReportingOverflow(UInt64(digit))
            guard !overflowed && !carried else { return nil }
            value = sum
            next = bytes.next()
        }
        guard !isNegative || value == 0 else { return nil }
        rawValue = value
    }
}

/// One connection of the daemon, numbered by the shell. Workers are connections that said `hello` as workers.
public struct WorkerID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "#\(rawValue)" }
    public static func < (a: WorkerID, b: WorkerID) -> Bool { a.rawValue < b.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
    public func _rawHashValue(seed: Int) -> Int { IntegerIDHash.mix(rawValue, seed: seed) }
}

/// A request the shell is waiting to answer; the shell maps it back to a connection and a JSON-RPC id.
public struct RequestID: Hashable, Comparable, Sendable {
    public var rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (a: RequestID, b: RequestID) -> Bool { a.rawValue < b.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
    public func _rawHashValue(seed: Int) -> Int { IntegerIDHash.mix(rawValue, seed: seed) }
}

/// The hash a `Set` or `Dictionary` keyed by one of the counter ids (`LeaseID`, `WorkerID`, `RequestID`) buckets
/// by: the 64-bit finalizer of MurmurHash3 over the number and the table's seed, a dozen instructions where
/// `Hasher` (SipHash) takes over a hundred. The ids come from our own counters, so the keys are not chosen by
/// an attacker; the mixing still spreads consecutive numbers over the low bits the table uses. `hash(into:)`
/// (used when an id is part of a larger key) stays on `Hasher`.
enum IntegerIDHash {
    static func mix(_ value: UInt64, seed: Int) -> Int {
        var x = value ^ UInt64(truncatingIfNeeded: seed)
        x ^= x >> 33
        x &*= 0xff51_afd7_ed55_8ccd
        x ^= x >> 33
        x &*= 0xc4ce_b9fe_1a85_ec53
        x ^= x >> 33
        return Int(truncatingIfNeeded: x)
    }
}

/// A journal sequence number.
public struct Seq: Hashable, Comparable, Sendable {
    public var rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (a: Seq, b: Seq) -> Bool { a.rawValue < b.rawValue }
}

/// A point in wall-clock time, in milliseconds since the Unix epoch, handed in by the shell.
public struct Instant: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var milliseconds: Int64
    public init(milliseconds: Int64) { self.milliseconds = milliseconds }
    public static let zero = Instant(milliseconds: 0)
    public static func seconds(_ s: Int64) -> Instant { Instant(milliseconds: s * 1000) }
    public var description: String { "\(milliseconds)ms" }
    public static func < (a: Instant, b: Instant) -> Bool { a.milliseconds < b.milliseconds }
    public static func + (a: Instant, d: Duration) -> Instant { Instant(milliseconds: a.milliseconds + d.milliseconds) }
    /// The time from `a` to `b`, never negative.
    public static func - (b: Instant, a: Instant) -> Duration { .milliseconds(max(0, b.milliseconds - a.milliseconds)) }
}

extension Duration {
    /// Whole milliseconds, rounded down; the core keeps time at millisecond resolution.
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// A duration from wire seconds, which may be fractional (`0.05`). Negative values become zero.
    public static func fromSeconds(_ seconds: Double) -> Duration {
        .milliseconds(Int64((max(0, seconds) * 1000).rounded()))
    }

    /// Seconds as a wire number.
    public var seconds: Double { Double(milliseconds) / 1000 }
}
