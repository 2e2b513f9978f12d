internal import FlowlineCore

/// Appends compact JSON to a byte buffer. The caller writes object members in the order it wants; commas are
/// inserted automatically.
///
/// ```swift
/// var w = JSONWriter()
/// w.beginObject(); w.key("a"); w.int(1); w.key("b"); w.beginArray(); w.int(2); w.int(3); w.endArray(); w.endObject()
/// // w.bytes == Array(#"{"a":1,"b":[2,3]}"#.utf8)
/// ```
///
/// The writer does not check the grammar of the calls (a value in an object needs a `key` first); it only keeps
/// the separators right.
public struct JSONWriter: Sendable {
    /// The JSON written so far.
    public var bytes: [UInt8]
    // Whether the next member of the innermost container needs a comma first. One flag is enough instead of a
    // stack: a container is entered with "no comma yet", and once closed it is itself a finished member of its
    // parent, which is exactly "comma next" again.
    private var needsComma = false

    /// Creates an empty writer with room for `capacity` bytes.
    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    // MARK: - Values

    /// Writes `value`, object members in their order (SPEC §7: a sender's members come back in its order).
    public mutating func write(_ value: JSON) {
        switch value {
        case .null: null()
        case .bool(let b): bool(b)
        case .int(let i): int(i)
        case .double(let d): double(d)
        case .string(let s): string(s)
        case .raw(let text): raw(text.bytes)
        case .array(let elements):
            beginArray()
            for element in elements { write(element) }
            endArray()
        case .object(let members):
            beginObject()
            for (k, v) in members {
                key(k)
                write(v)
            }
            endObject()
        }
    }

    /// Writes `s` quoted, escaping `"`, `\` and control characters (`\n`, `\t`, ... or `\u00XX`).
    public mutating func string(_ s: String) {
        separate()
        appendQuoted(s)
    }

    /// Writes an integer in decimal.
    public mutating func int(_ v: Int64) {
        separate()
        // The magnitude as unsigned, so Int64.min does not overflow; digits go straight into the buffer.
        bytes.append(addingCapacity: 21) { out in
            if v < 0 { out.append(ASCII.minus) }
            out.appendDecimal(v.magnitude)
        }
    }

    /// Writes a finite double as the shortest text that parses back to it (`3.0`, `0.1`, `1e+308`).
    /// JSON has no spelling for infinities or NaN; they are written as `null`.
    public mutating func double(_ v: Double) {
        separate()
        guard v.isFinite else {
            appendASCII("null")
            return
        }
        // The stdlib's description is the shortest round-trip form and, for finite values, valid JSON.
        bytes.append(contentsOf: v.description.utf8)
    }

    /// Writes `true` or `false`.
    public mutating func bool(_ v: Bool) {
        separate()
        appendASCII(v ? "true" : "false")
    }

    /// Writes `null`.
    public mutating func null() {
        separate()
        appendASCII("null")
    }

    /// Splices in one already-encoded JSON value as-is. The caller vouches that it is valid JSON.
    public mutating func raw(_ jsonBytes: [UInt8]) {
        separate()
        bytes.append(contentsOf: jsonBytes)
    }

    // MARK: - Containers

    /// Writes `{`.
    public mutating func beginObject() {
        separate()
        bytes.append(ASCII.openBrace)
        needsComma = false
    }

    /// Writes `}`.
    public mutating func endObject() {
        bytes.append(ASCII.closeBrace)
        needsComma = true
    }

    /// Writes `[`.
    public mutating func beginArray() {
        separate()
        bytes.append(ASCII.openBracket)
        needsComma = false
    }

    /// Writes `]`.
    public mutating func endArray() {
        bytes.append(ASCII.closeBracket)
        needsComma = true
    }

    /// Writes the comma before a member if needed, then the quoted key and `:`. The member's value follows.
    public mutating func key(_ k: String) {
        separate()
        appendQuoted(k)
        bytes.append(ASCII.colon)
        needsComma = false
    }

    /// Writes the comma before a member if needed, then `k`'s `"name":` as it was encoded once.
    public mutating func key(_ k: JSONKey) {
        separate()
        bytes.append(contentsOf: k.encoded)
        needsComma = false
    }

    /// Appends `fragment`, JSON encoded once and reused (the start of a line), as is. `needsCommaAfter` says where
    /// it leaves the writer: after a complete member or value (true), or after a key or an opening bracket (false).
    mutating func appendEncoded(_ fragment: [UInt8], needsCommaAfter: Bool) {
        separate()
        bytes.append(contentsOf: fragment)
        needsComma = needsCommaAfter
    }

    // MARK: - Bytes

    /// Writes the comma a new member needs, and records that the member after it needs one.
    private mutating func separate() {
        if needsComma { bytes.append(ASCII.comma) }
        needsComma = true
    }

    private mutating func appendASCII(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    /// Appends a value of at most `capacity` bytes written by `body`, after the comma it needs.
    mutating func appendValue(capacity: Int, _ body: (inout OutputSpan<UInt8>) -> Void) {
        separate()
        bytes.append(addingCapacity: capacity, initializingWith: body)
    }

    private mutating func appendQuoted(_ s: String) {
        let start = bytes.count
        let span = s.utf8.span
        // One pass that checks and copies each byte, in one OutputSpan: most strings (keys, ids, names) need no
        // escaping, and for them this is the whole cost. At the first byte that needs one, it stops.
        var clean = true
        bytes.append(addingCapacity: span.count + 2) { out in
            out.append(ASCII.quote)
            for i in span.indices {
                let b = span[i]
                if b < 0x20 || b == ASCII.quote || b == ASCII.backslash {
                    clean = false
                    return
                }
                out.append(b)
            }
            out.append(ASCII.quote)
        }
        guard !clean else { return }
        bytes.removeSubrange(start...)
        bytes.append(ASCII.quote)
        for i in span.indices { appendEscaped(span[i]) }
        bytes.append(ASCII.quote)
    }

    private mutating func appendEscaped(_ b: UInt8) {
        switch b {
        case ASCII.quote, ASCII.backslash:
            bytes.append(ASCII.backslash)
            bytes.append(b)
        case ASCII.newline: appendTwo("n")
        case ASCII.carriageReturn: appendTwo("r")
        case ASCII.tab: appendTwo("t")
        case 0x08: appendTwo("b")
        case 0x0C: appendTwo("f")
        case 0..<0x20:
            appendTwo("u")
            bytes.append(ASCII.zero)
            bytes.append(ASCII.zero)
            bytes.append(Self.hexDigit(b >> 4))
            bytes.append(Self.hexDigit(b & 0xF))
        default:
            bytes.append(b)
        }
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? ASCII.zero + nibble : UInt8(ascii: "a") + nibble - 10
    }

    private mutating func appendTwo(_ letter: Unicode.Scalar) {
        bytes.append(ASCII.backslash)
        bytes.append(UInt8(ascii: letter))
    }
}

/// A member name quoted and followed by `:` once, for names written on every line: writing one is a copy, where
/// `key(_: String)` checks each byte for escapes.
public struct JSONKey: Sendable {
    let encoded: [UInt8]

    /// Encodes `name`.
    public init(_ name: String) {
        var writer = JSONWriter(capacity: name.utf8.count + 3)
        writer.key(name)
        encoded = writer.bytes
    }
}

extension OutputSpan<UInt8> {
    /// Appends `v` in decimal; the span must have room for its digits (at most 20).
    mutating func appendDecimal(_ v: UInt64) {
        var digitCount = 1
        var power: UInt64 = 10
        while digitCount < 20, v >= power {
            digitCount += 1
            power &*= 10
        }
        // Placeholders first, then the digits right to left over them.
        append(repeating: ASCII.zero, count: digitCount)
        var rest = v
        var i = count
        repeat {
            i -= 1
            self[i] = ASCII.zero + UInt8(rest % 10)
            rest /= 10
        } while rest > 0
    }
}
