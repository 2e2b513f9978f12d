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

    /// Writes `value`; object members are sorted by key, so equal values always give equal bytes.
    public mutating func write(_ value: JSON) {
        switch value {
        case .null: null()
        case .bool(let b): bool(b)
        case .int(let i): int(i)
        case .double(let d): double(d)
        case .string(let s): string(s)
        case .array(let elements):
            beginArray()
            for element in elements { write(element) }
            endArray()
        case .object(let members):
            beginObject()
            for (k, v) in members.sorted(by: { $0.key < $1.key }) {
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
        if v < 0 { bytes.append(ASCII.minus) }
        // The magnitude as unsigned, so Int64.min does not overflow. Digits are written right to left into
        // placeholder bytes, which avoids building a String.
        var magnitude = v.magnitude
        var digitCount = 1
        var power: UInt64 = 10
        while digitCount < 20, magnitude >= power {
            digitCount += 1
            power &*= 10
        }
        bytes.append(contentsOf: repeatElement(ASCII.zero, count: digitCount))
        var i = bytes.count
        repeat {
            i -= 1
            bytes[i] = ASCII.zero + UInt8(magnitude % 10)
            magnitude /= 10
        } while magnitude > 0
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

    // MARK: - Bytes

    /// Writes the comma a new member needs, and records that the member after it needs one.
    private mutating func separate() {
        if needsComma { bytes.append(ASCII.comma) }
        needsComma = true
    }

    private mutating func appendASCII(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    private mutating func appendQuoted(_ s: String) {
        bytes.append(ASCII.quote)
        let utf8 = s.utf8
        // Scanned through a span: the generic `contains` over a UTF8View goes byte by byte through its iterator.
        let span = utf8.span
        var needsEscape = false
        for i in span.indices where span[i] < 0x20 || span[i] == ASCII.quote || span[i] == ASCII.backslash {
            needsEscape = true
            break
        }
        if !needsEscape {
            // The common case: one bulk copy of the string's contiguous UTF-8.
            bytes.append(contentsOf: utf8)
        } else {
            for b in utf8 { appendEscaped(b) }
        }
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
