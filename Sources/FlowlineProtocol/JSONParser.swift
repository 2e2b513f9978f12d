/// Why a byte sequence is not one acceptable JSON value, and where.
public struct JSONParseError: Error, Equatable, CustomStringConvertible {
    /// The offset of the offending byte, counted from the start of the input.
    public var offset: Int
    /// What was wrong, in a few words (for logs and `-32700` error messages).
    public var message: String

    /// Creates an error at `offset`.
    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }

    /// `"<message> at byte <offset>"`.
    public var description: String { "\(message) at byte \(offset)" }
}

/// A strict RFC 8259 parser over bytes, written for untrusted input.
///
/// - UTF-8 is validated in strings (the only place non-ASCII bytes are legal), rejecting overlong forms,
///   surrogates and code points past U+10FFFF; `\u` escapes must pair surrogates.
/// - Control characters (below 0x20) must be escaped inside strings.
/// - Nesting is tracked on a heap stack, never by recursion, so any depth is safe; more than `maxDepth`
///   nested arrays and objects is an error.
/// - A number without fraction or exponent that fits `Int64` becomes `.int` (so `-0` is `.int(0)`); every other
///   number becomes `.double`, and one whose magnitude rounds to infinity is rejected.
/// - Duplicate object keys are allowed; the last one wins.
public enum JSONParser {
    /// Parses exactly one JSON value from `bytes`, allowing whitespace around it.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 256) throws(JSONParseError) -> JSON {
        var parser = Parser(maxDepth: maxDepth)
        return try parser.parseDocument(bytes.span)
    }

    /// Parses exactly one JSON value from `bytes`; error offsets count from `bytes.startIndex`.
    public static func parse(_ bytes: ArraySlice<UInt8>, maxDepth: Int = 256) throws(JSONParseError) -> JSON {
        var parser = Parser(maxDepth: maxDepth)
        return try parser.parseDocument(bytes.span)
    }
}

// MARK: - Bytes

/// The ASCII bytes the grammar names.
enum ASCII {
    static let quote: UInt8 = 0x22
    static let backslash: UInt8 = 0x5C
    static let slash: UInt8 = 0x2F
    static let comma: UInt8 = 0x2C
    static let colon: UInt8 = 0x3A
    static let openBracket: UInt8 = 0x5B
    static let closeBracket: UInt8 = 0x5D
    static let openBrace: UInt8 = 0x7B
    static let closeBrace: UInt8 = 0x7D
    static let minus: UInt8 = 0x2D
    static let plus: UInt8 = 0x2B
    static let dot: UInt8 = 0x2E
    static let zero: UInt8 = 0x30
    static let nine: UInt8 = 0x39
    static let lowerE: UInt8 = 0x65
    static let upperE: UInt8 = 0x45
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let newline: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D

    static func isDigit(_ b: UInt8) -> Bool { b &- zero < 10 }
}

// MARK: - Parser

/// The parser's state. The input is passed to every method as a `Span` rather than stored, because a stored
/// `Span` would make this type non-escapable, which needs experimental lifetime annotations.
struct Parser {
    let maxDepth: Int
    var index = 0
    // The members of every open container, innermost last, each container's preceded by a marker entry that saves
    // the enclosing container's state (see `openContainer`). One flat stack means one allocation per parse, and a
    // member is copied once, when its container closes. Array elements have an empty key.
    private var stack: [JSONObject.Member] = []
    // The innermost open container: how many are open, whether it is an object, where its first member is on
    // `stack`, and the key read for its next member.
    private var depth = 0
    private var inObject = false
    private var membersStart = 0
    private var pendingKey = ""

    init(maxDepth: Int) {
        self.maxDepth = maxDepth
    }

    mutating func parseDocument(_ s: Span<UInt8>) throws(JSONParseError) -> JSON {
        let value = try parseValue(s)
        skipWhitespace(s)
        if index < s.count { throw error("trailing data after the JSON value") }
        return value
    }

    /// Readies the parser for another document, keeping the stack's storage unless it grew past `keptCapacity`
    /// members, so a parser reused line after line allocates its stack once rather than per line.
    mutating func reset(keptCapacity: Int) {
        index = 0
        depth = 0
        inObject = false
        membersStart = 0
        pendingKey = ""
        // A failed parse can leave members behind; they must not leak into the next document.
        stack.removeAll(keepingCapacity: stack.capacity <= keptCapacity)
    }

    func error(_ message: String, at offset: Int? = nil) -> JSONParseError {
        JSONParseError(offset: offset ?? index, message: message)
    }

    mutating func skipWhitespace(_ s: Span<UInt8>) {
        while index < s.count {
            let b = s[index]
            guard b == ASCII.space || b == ASCII.newline || b == ASCII.carriageReturn || b == ASCII.tab else { return }
            index += 1
        }
    }

    /// The byte at `index`, or an end-of-input error.
    func peek(_ s: Span<UInt8>) throws(JSONParseError) -> UInt8 {
        guard index < s.count else { throw error("unexpected end of input") }
        return s[index]
    }

    mutating func expect(_ byte: UInt8, _ s: Span<UInt8>, _ what: String) throws(JSONParseError) {
        skipWhitespace(s)
        guard try peek(s) == byte else { throw error("expected \(what)") }
        index += 1
    }

    /// Parses one value of any depth with an explicit stack: the outer loop starts a value, the inner loop
    /// hands each finished value to the innermost open container until one wants another member.
    mutating func parseValue(_ s: Span<UInt8>) throws(JSONParseError) -> JSON {
        nextValue: while true {
            skipWhitespace(s)
            guard var value = try startValue(s) else { continue nextValue }
            while depth > 0 {
                stack.append(JSONObject.Member(key: pendingKey, value: value))
                skipWhitespace(s)
                let b = try peek(s)
                index += 1
                if b == ASCII.comma {
                    if inObject { try parseKey(s) }
                    continue nextValue
                }
                guard b == (inObject ? ASCII.closeBrace : ASCII.closeBracket) else {
                    throw error(inObject ? "expected ',' or '}'" : "expected ',' or ']'", at: index - 1)
                }
                value = closeContainer()
            }
            return value
        }
    }

    /// Parses a scalar or an empty container and returns it, or opens a container and returns nil.
    private mutating func startValue(_ s: Span<UInt8>) throws(JSONParseError) -> JSON? {
        let b = try peek(s)
        switch b {
        case ASCII.quote: return .string(try parseString(s))
        case ASCII.openBrace, ASCII.openBracket: return try openContainer(isObject: b == ASCII.openBrace, s)
        case ASCII.minus, ASCII.zero...ASCII.nine: return try parseNumber(s)
        case UInt8(ascii: "t"): return try parseLiteral("true", .bool(true), s)
        case UInt8(ascii: "f"): return try parseLiteral("false", .bool(false), s)
        case UInt8(ascii: "n"): return try parseLiteral("null", .null, s)
        default: throw error(b < 0x80 ? "unexpected character" : "unexpected non-ASCII byte outside a string")
        }
    }

    private mutating func openContainer(isObject: Bool, _ s: Span<UInt8>) throws(JSONParseError) -> JSON? {
        // Check before pushing, so hostile nesting costs at most maxDepth markers.
        guard depth < maxDepth else { throw error("nesting deeper than \(maxDepth)") }
        index += 1
        skipWhitespace(s)
        if try peek(s) == (isObject ? ASCII.closeBrace : ASCII.closeBracket) {
            index += 1
            return isObject ? .object(JSONObject()) : .array([])
        }
        // Room for a typical message, so the stack is allocated once rather than grown several times.
        if stack.capacity == 0 { stack.reserveCapacity(32) }
        // The marker saves the enclosing container's pending key, kind and start (as `start * 2 + isObject`).
        let saved = Int64(membersStart) << 1 | (inObject ? 1 : 0)
        stack.append(JSONObject.Member(key: pendingKey, value: .int(saved)))
        depth += 1
        inObject = isObject
        membersStart = stack.count
        if isObject { try parseKey(s, skippedWhitespace: true) }
        return nil
    }

    private mutating func parseKey(_ s: Span<UInt8>, skippedWhitespace: Bool = false) throws(JSONParseError) {
        if !skippedWhitespace { skipWhitespace(s) }
        guard try peek(s) == ASCII.quote else { throw error("expected a string key") }
        pendingKey = try parseString(s)
        try expect(ASCII.colon, s, "':'")
    }

    /// Builds the innermost container from its members on the stack, pops them with its marker, and makes the
    /// enclosing container innermost again.
    private mutating func closeContainer() -> JSON {
        // An explicit loop: Array(slice) and slice.map go through generic collection copying, several times slower
        // for these few members.
        let value: JSON
        if inObject {
            var members: [JSONObject.Member] = []
            members.reserveCapacity(stack.count - membersStart)
            for i in membersStart..<stack.count { members.append(stack[i]) }
            value = .object(JSONObject(lastWins: members))
        } else {
            var elements: [JSON] = []
            elements.reserveCapacity(stack.count - membersStart)
            for i in membersStart..<stack.count { elements.append(stack[i].value) }
            value = .array(elements)
        }
        let markerIndex = membersStart - 1
        guard case .int(let saved) = stack[markerIndex].value else { preconditionFailure("corrupt parser stack") }
        pendingKey = stack[markerIndex].key
        inObject = saved & 1 == 1
        membersStart = Int(saved >> 1)
        depth -= 1
        // One removeLast per entry: cheaper than removeLast(k), which goes through the generic replaceSubrange.
        while stack.count > markerIndex { stack.removeLast() }
        return value
    }

    private mutating func parseLiteral(_ word: String, _ value: JSON, _ s: Span<UInt8>) throws(JSONParseError) -> JSON {
        let start = index
        for expected in word.utf8 {
            guard index < s.count, s[index] == expected else { throw error("invalid literal", at: start) }
            index += 1
        }
        return value
    }
}

// MARK: - Strings

extension Parser {
    /// Parses a string starting at its opening quote. Strings without escapes are validated and copied once.
    mutating func parseString(_ s: Span<UInt8>) throws(JSONParseError) -> String {
        index += 1
        let start = index
        while true {
            guard index < s.count else { throw error("unterminated string", at: start - 1) }
            let b = s[index]
            if b == ASCII.quote {
                let string: String
                if let known = KnownStrings.match(s, start..<index) {
                    string = known
                } else {
                    string = try decodeUTF8(s, start..<index)
                }
                index += 1
                return string
            }
            if b == ASCII.backslash { return try parseEscapedString(s, from: start) }
            if b < 0x20 { throw error("unescaped control character in string") }
            index += 1
        }
    }

    private func decodeUTF8(_ s: Span<UInt8>, _ range: Range<Int>) throws(JSONParseError) -> String {
        do throws(UTF8.ValidationError) {
            return String(copying: try UTF8Span(validating: s.extracting(range)))
        } catch {
            throw self.error("invalid UTF-8 in string", at: range.lowerBound + error.byteOffsets.lowerBound)
        }
    }

    /// The slow path: unescapes into a byte buffer, validating each raw run between escapes. Escapes are ASCII,
    /// so a valid multi-byte sequence never straddles one.
    private mutating func parseEscapedString(_ s: Span<UInt8>, from start: Int) throws(JSONParseError) -> String {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(index - start + 16)
        var runStart = start
        while true {
            guard index < s.count else { throw error("unterminated string", at: start - 1) }
            let b = s[index]
            if b == ASCII.quote || b == ASCII.backslash {
                try appendValidated(s, runStart..<index, to: &buffer)
                if b == ASCII.quote {
                    index += 1
                    return String(decoding: buffer, as: UTF8.self)
                }
                try appendEscape(s, to: &buffer)
                runStart = index
            } else if b < 0x20 {
                throw error("unescaped control character in string")
            } else {
                index += 1
            }
        }
    }

    private func appendValidated(
        _ s: Span<UInt8>,
        _ range: Range<Int>,
        to buffer: inout [UInt8]
    )
        throws(JSONParseError)
    {
        do throws(UTF8.ValidationError) {
            _ = try UTF8Span(validating: s.extracting(range))
        } catch {
            throw self.error("invalid UTF-8 in string", at: range.lowerBound + error.byteOffsets.lowerBound)
        }
        for i in range { buffer.append(s[i]) }
    }

    /// Decodes the escape at `index` (its backslash) and appends its UTF-8.
    private mutating func appendEscape(_ s: Span<UInt8>, to buffer: inout [UInt8]) throws(JSONParseError) {
        let escapeStart = index
        index += 1
        let c = try peek(s)
        index += 1
        switch c {
        case ASCII.quote, ASCII.backslash, ASCII.slash: buffer.append(c)
        case UInt8(ascii: "b"): buffer.append(0x08)
        case UInt8(ascii: "f"): buffer.append(0x0C)
        case UInt8(ascii: "n"): buffer.append(0x0A)
        case UInt8(ascii: "r"): buffer.append(0x0D)
        case UInt8(ascii: "t"): buffer.append(0x09)
        case UInt8(ascii: "u"): appendUTF8(try parseUnicodeEscape(s, escapeStart: escapeStart), to: &buffer)
        default: throw error("invalid escape", at: escapeStart)
        }
    }

    /// Reads the hex digits of a `\u` escape (and of its low surrogate, if it starts a pair).
    private mutating func parseUnicodeEscape(_ s: Span<UInt8>, escapeStart: Int) throws(JSONParseError) -> UInt32 {
        let unit = try parseHex4(s)
        switch unit {
        case 0xD800...0xDBFF:
            guard index + 1 < s.count, s[index] == ASCII.backslash, s[index + 1] == UInt8(ascii: "u") else {
                throw error("lone surrogate in \\u escape", at: escapeStart)
            }
            index += 2
            let low = try parseHex4(s)
            guard (0xDC00...0xDFFF).contains(low) else {
                throw error("lone surrogate in \\u escape", at: escapeStart)
            }
            return 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
        case 0xDC00...0xDFFF:
            throw error("lone surrogate in \\u escape", at: escapeStart)
        default:
            return unit
        }
    }

    private mutating func parseHex4(_ s: Span<UInt8>) throws(JSONParseError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            let b = try peek(s)
            let digit: UInt8
            switch b {
            case ASCII.zero...ASCII.nine: digit = b - ASCII.zero
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
            default: throw error("invalid hex digit in \\u escape")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    private func appendUTF8(_ scalar: UInt32, to buffer: inout [UInt8]) {
        switch scalar {
        case 0..<0x80:
            buffer.append(UInt8(scalar))
        case 0x80..<0x800:
            buffer.append(UInt8(0xC0 | scalar >> 6))
            buffer.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            buffer.append(UInt8(0xE0 | scalar >> 12))
            buffer.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            buffer.append(UInt8(0x80 | scalar & 0x3F))
        default:
            buffer.append(UInt8(0xF0 | scalar >> 18))
            buffer.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            buffer.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            buffer.append(UInt8(0x80 | scalar & 0x3F))
        }
    }
}

// MARK: - Known strings

/// The keys (and a few values) of nearly every protocol message, recognised by their bytes so that parsing one
/// returns a string constant instead of validating and copying a new `String`.
///
/// A string of 1 to 16 bytes is packed into two words: its first eight bytes big-endian into `lo`, the rest into
/// `hi`. Unescaped JSON strings never hold a NUL byte, so the packing is unambiguous. The `switch` is a compiled
/// search with no table to load; its constants are the packed forms of `all`, which a test checks.
enum KnownStrings {
    /// Every string `match` recognises.
    static let all: [String] = [
        "jsonrpc",
        "2.0",
        "id",
        "method",
        "params",
        "result",
        "error",
        "code",
        "message",
        "data",
        "hello",
        "role",
        "name",
        "protocol",
        "token",
        "worker",
        "queues",
        "queue",
        "concurrency",
        "default",
        "lease",
        "task_id",
        "workflow_id",
        "workflow_name",
        "workflow_input",
        "handler",
        "input",
        "output",
        "deps",
        "attempt",
        "attempts",
        "max_attempts",
        "backoff_s",
        "max_backoff_s",
        "retry",
        "retryable",
        "retry_at",
        "timeout_s",
        "heartbeat_s",
        "deadline",
        "priority",
        "revert",
        "progress",
        "reason",
        "kind",
        "key",
        "poll",
        "future",
        "interval_s",
        "sleep_s",
        "spawned",
        "tasks",
        "type",
        "time",
        "seq",
        "state",
        "created",
        "created_at",
        "started_at",
        "finished_at",
        "scheduled_at",
        "workflows",
        "running",
        "limit",
        "after",
        "next",
        "matched",
        "wait",
        "task.run",
        "task.complete",
        "task.fail",
        "task.heartbeat",
        "task.release",
        "task.spawn",
        "task.await",
        "task.cancel",
        "worker.quiet",
        "workflow.get",
        "workflow.list",
        "workflow.wait",
        "stats",
        "workflow.submit",
        "completed",
        "failed",
        "cancelled",
        "ok",
        "done",
    ]

    /// The constant equal to the bytes in `range`, if they are one of `all`.
    static func match(_ s: Span<UInt8>, _ range: Range<Int>) -> String? {
        guard range.count > 0 && range.count <= 16 else { return nil }
        var lo: UInt64 = 0
        var hi: UInt64 = 0
        var i = range.lowerBound
        let middle = min(range.upperBound, i + 8)
        while i < middle {
            lo = lo &<< 8 | UInt64(s[i])
            i &+= 1
        }
        while i < range.upperBound {
            hi = hi &<< 8 | UInt64(s[i])
            i &+= 1
        }
        switch lo {
        case 0x6964: return hi == 0 ? "id" : nil
        case 0x6F6B: return hi == 0 ? "ok" : nil
        case 0x32_2E30: return hi == 0 ? "2.0" : nil
        case 0x6B_6579: return hi == 0 ? "key" : nil
        case 0x73_6571: return hi == 0 ? "seq" : nil
        case 0x636F_6465: return hi == 0 ? "code" : nil
        case 0x6461_7461: return hi == 0 ? "data" : nil
        case 0x6465_7073: return hi == 0 ? "deps" : nil
        case 0x646F_6E65: return hi == 0 ? "done" : nil
        case 0x6B69_6E64: return hi == 0 ? "kind" : nil
        case 0x6E61_6D65: return hi == 0 ? "name" : nil
        case 0x6E65_7874: return hi == 0 ? "next" : nil
        case 0x706F_6C6C: return hi == 0 ? "poll" : nil
        case 0x726F_6C65: return hi == 0 ? "role" : nil
        case 0x7469_6D65: return hi == 0 ? "time" : nil
        case 0x7479_7065: return hi == 0 ? "type" : nil
        case 0x7761_6974: return hi == 0 ? "wait" : nil
        case 0x61_6674_6572: return hi == 0 ? "after" : nil
        case 0x65_7272_6F72: return hi == 0 ? "error" : nil
        case 0x68_656C_6C6F: return hi == 0 ? "hello" : nil
        case 0x69_6E70_7574: return hi == 0 ? "input" : nil
        case 0x6C_6561_7365: return hi == 0 ? "lease" : nil
        case 0x6C_696D_6974: return hi == 0 ? "limit" : nil
        case 0x71_7565_7565: return hi == 0 ? "queue" : nil
        case 0x72_6574_7279: return hi == 0 ? "retry" : nil
        case 0x73_7461_7465: return hi == 0 ? "state" : nil
        case 0x73_7461_7473: return hi == 0 ? "stats" : nil
        case 0x74_6173_6B73: return hi == 0 ? "tasks" : nil
        case 0x74_6F6B_656E: return hi == 0 ? "token" : nil
        case 0x6661_696C_6564: return hi == 0 ? "failed" : nil
        case 0x6675_7475_7265: return hi == 0 ? "future" : nil
        case 0x6D65_7468_6F64: return hi == 0 ? "method" : nil
        case 0x6F75_7470_7574: return hi == 0 ? "output" : nil
        case 0x7061_7261_6D73: return hi == 0 ? "params" : nil
        case 0x7175_6575_6573: return hi == 0 ? "queues" : nil
        case 0x7265_6173_6F6E: return hi == 0 ? "reason" : nil
        case 0x7265_7375_6C74: return hi == 0 ? "result" : nil
        case 0x7265_7665_7274: return hi == 0 ? "revert" : nil
        case 0x776F_726B_6572: return hi == 0 ? "worker" : nil
        case 0x61_7474_656D_7074: return hi == 0 ? "attempt" : nil
        case 0x63_7265_6174_6564: return hi == 0 ? "created" : nil
        case 0x64_6566_6175_6C74: return hi == 0 ? "default" : nil
        case 0x68_616E_646C_6572: return hi == 0 ? "handler" : nil
        case 0x6A_736F_6E72_7063: return hi == 0 ? "jsonrpc" : nil
        case 0x6D_6174_6368_6564: return hi == 0 ? "matched" : nil
        case 0x6D_6573_7361_6765: return hi == 0 ? "message" : nil
        case 0x72_756E_6E69_6E67: return hi == 0 ? "running" : nil
        case 0x73_6C65_6570_5F73: return hi == 0 ? "sleep_s" : nil
        case 0x73_7061_776E_6564: return hi == 0 ? "spawned" : nil
        case 0x74_6173_6B5F_6964: return hi == 0 ? "task_id" : nil
        case 0x6174_7465_6D70_7473: return hi == 0 ? "attempts" : nil
        case 0x6261_636B_6F66_665F: return hi == 0x73 ? "backoff_s" : nil
        case 0x6361_6E63_656C_6C65: return hi == 0x64 ? "cancelled" : nil
        case 0x636F_6D70_6C65_7465: return hi == 0x64 ? "completed" : nil
        case 0x636F_6E63_7572_7265: return hi == 0x6E_6379 ? "concurrency" : nil
        case 0x6372_6561_7465_645F: return hi == 0x6174 ? "created_at" : nil
        case 0x6465_6164_6C69_6E65: return hi == 0 ? "deadline" : nil
        case 0x6669_6E69_7368_6564: return hi == 0x5F_6174 ? "finished_at" : nil
        case 0x6865_6172_7462_6561: return hi == 0x74_5F73 ? "heartbeat_s" : nil
        case 0x696E_7465_7276_616C: return hi == 0x5F73 ? "interval_s" : nil
        case 0x6D61_785F_6174_7465: return hi == 0x6D70_7473 ? "max_attempts" : nil
        case 0x6D61_785F_6261_636B: return hi == 0x6F_6666_5F73 ? "max_backoff_s" : nil
        case 0x7072_696F_7269_7479: return hi == 0 ? "priority" : nil
        case 0x7072_6F67_7265_7373: return hi == 0 ? "progress" : nil
        case 0x7072_6F74_6F63_6F6C: return hi == 0 ? "protocol" : nil
        case 0x7265_7472_795F_6174: return hi == 0 ? "retry_at" : nil
        case 0x7265_7472_7961_626C: return hi == 0x65 ? "retryable" : nil
        case 0x7363_6865_6475_6C65: return hi == 0x645F_6174 ? "scheduled_at" : nil
        case 0x7374_6172_7465_645F: return hi == 0x6174 ? "started_at" : nil
        case 0x7461_736B_2E61_7761: return hi == 0x6974 ? "task.await" : nil
        case 0x7461_736B_2E63_616E: return hi == 0x63_656C ? "task.cancel" : nil
        case 0x7461_736B_2E63_6F6D: return hi == 0x70_6C65_7465 ? "task.complete" : nil
        case 0x7461_736B_2E66_6169: return hi == 0x6C ? "task.fail" : nil
        case 0x7461_736B_2E68_6561: return hi == 0x7274_6265_6174 ? "task.heartbeat" : nil
        case 0x7461_736B_2E72_656C: return hi == 0x6561_7365 ? "task.release" : nil
        case 0x7461_736B_2E72_756E: return hi == 0 ? "task.run" : nil
        case 0x7461_736B_2E73_7061: return hi == 0x776E ? "task.spawn" : nil
        case 0x7469_6D65_6F75_745F: return hi == 0x73 ? "timeout_s" : nil
        case 0x776F_726B_6572_2E71: return hi == 0x7569_6574 ? "worker.quiet" : nil
        case 0x776F_726B_666C_6F77:
            switch hi {
            case 0x73: return "workflows"
            case 0x5F_6964: return "workflow_id"
            case 0x2E67_6574: return "workflow.get"
            case 0x2E_6C69_7374: return "workflow.list"
            case 0x2E_7761_6974: return "workflow.wait"
            case 0x5F_6E61_6D65: return "workflow_name"
            case 0x5F69_6E70_7574: return "workflow_input"
            case 0x2E_7375_626D_6974: return "workflow.submit"
            default: return nil
            }
        default: return nil
        }
    }
}

// MARK: - Numbers

extension Parser {
    /// Exact powers of ten: with a mantissa below 2^53, one multiplication or division by these is correctly
    /// rounded (Clinger's fast path), so most numbers never reach the slower text conversion.
    private static let exactPowersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// The digits read so far, as an exact integer while they fit.
    private struct Mantissa {
        var value: UInt64 = 0
        var isExact = true

        mutating func append(_ digit: UInt8) {
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(digit))
            if o1 || o2 { isExact = false } else { value = sum }
        }
    }

    mutating func parseNumber(_ s: Span<UInt8>) throws(JSONParseError) -> JSON {
        let start = index
        let isNegative = s[index] == ASCII.minus
        if isNegative { index += 1 }
        var mantissa = Mantissa()
        guard index < s.count, ASCII.isDigit(s[index]) else { throw error("expected a digit") }
        if s[index] == ASCII.zero {
            index += 1
            if index < s.count, ASCII.isDigit(s[index]) { throw error("leading zero in number", at: start) }
        } else {
            readDigits(s) { mantissa.append($0) }
        }
        var fractionDigits = 0
        var isIntegral = true
        if index < s.count, s[index] == ASCII.dot {
            isIntegral = false
            index += 1
            guard index < s.count, ASCII.isDigit(s[index]) else { throw error("expected a digit after '.'") }
            readDigits(s) {
                mantissa.append($0)
                fractionDigits += 1
            }
        }
        var exponent = 0
        if index < s.count, s[index] == ASCII.lowerE || s[index] == ASCII.upperE {
            isIntegral = false
            exponent = try parseExponent(s)
        }
        if isIntegral, mantissa.isExact, let int = Self.int64(mantissa.value, isNegative: isNegative) {
            return .int(int)
        }
        return .double(try makeDouble(s, start: start, mantissa, exponent - fractionDigits, isNegative))
    }

    private mutating func readDigits(_ s: Span<UInt8>, _ body: (UInt8) -> Void) {
        while index < s.count, ASCII.isDigit(s[index]) {
            body(s[index] - ASCII.zero)
            index += 1
        }
    }

    private mutating func parseExponent(_ s: Span<UInt8>) throws(JSONParseError) -> Int {
        index += 1
        var isNegative = false
        if index < s.count, s[index] == ASCII.minus || s[index] == ASCII.plus {
            isNegative = s[index] == ASCII.minus
            index += 1
        }
        guard index < s.count, ASCII.isDigit(s[index]) else { throw error("expected a digit in exponent") }
        var exponent = 0
        // Saturate: any exponent this large already means zero or out of range.
        readDigits(s) { exponent = min(exponent * 10 + Int($0), 1_000_000) }
        return isNegative ? -exponent : exponent
    }

    private static func int64(_ magnitude: UInt64, isNegative: Bool) -> Int64? {
        if !isNegative { return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil }
        return magnitude <= UInt64(Int64.max) + 1 ? Int64(bitPattern: 0 &- magnitude) : nil
    }

    private func makeDouble(
        _ s: Span<UInt8>,
        start: Int,
        _ mantissa: Mantissa,
        _ exponent10: Int,
        _ isNegative: Bool
    )
        throws(JSONParseError) -> Double
    {
        var magnitude: Double
        if mantissa.isExact, mantissa.value <= 1 << 53, (-22...22).contains(exponent10) {
            magnitude = Double(mantissa.value)
            if exponent10 >= 0 {
                magnitude *= Self.exactPowersOfTen[exponent10]
            } else {
                magnitude /= Self.exactPowersOfTen[-exponent10]
            }
            return isNegative ? -magnitude : magnitude
        }
        // The grammar is already checked, so the text is ASCII and valid for the stdlib's correctly rounded
        // conversion.
        let text = try decodeUTF8(s, start..<index)
        guard let value = Double(text), value.isFinite else { throw error("number out of range", at: start) }
        return value
    }
}
