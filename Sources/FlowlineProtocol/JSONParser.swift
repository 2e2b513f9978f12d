internal import FlowlineCore

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

    /// Parses `bytes` as `parse` does, but keeps every number that an `Int64` or a `Double` would change as `.raw`
    /// text (the client libraries: a handler reads `12345678901234567890` as the sender wrote it).
    public static func parse(keepingNumberText bytes: [UInt8], maxDepth: Int = 256) throws(JSONParseError) -> JSON {
        var parser = Parser(maxDepth: maxDepth, keepsNumberText: true)
        return try parser.parseDocument(bytes.span)
    }

    /// Parses `bytes` as `parse` does, but keeps the members named `input`, `result` and `progress` of objects
    /// at least `payloadDepth` deep (the outermost value is depth 1) as `.raw` text.
    public static func parse(
        _ bytes: [UInt8],
        keepingPayloadsFrom payloadDepth: Int,
        maxDepth: Int = 256
    ) throws(JSONParseError) -> JSON {
        var parser = Parser(maxDepth: maxDepth, payloadDepth: payloadDepth)
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
    // Which known strings the innermost object's keys are; `openKeys` saves those of the enclosing containers.
    private var keys = KeySet()
    private var openKeys: [KeySet] = []
    // The position in `KnownStrings.all` of the string `parseString` returned last, or -1 if it is not one of them.
    private var lastKnownOrdinal = -1
    /// Members named `input`, `result` or `progress` of objects at least this deep (the message is depth 1, its
    /// `params` 2) are payloads: checked and kept as text (`.raw`) rather than built. `Int.max`: none are.
    let payloadDepth: Int
    /// Numbers a `Double` or an `Int64` would change (`12345678901234567890`, `0.3333333333333333333333`, `1e400`)
    /// come back as `.raw` text instead of rounded or refused: a client that must hand its user the digits sent.
    let keepsNumberText: Bool

    init(maxDepth: Int, payloadDepth: Int = .max, keepsNumberText: Bool = false) {
        self.maxDepth = maxDepth
        self.payloadDepth = payloadDepth
        self.keepsNumberText = keepsNumberText
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
        keys = KeySet()
        // A failed parse can leave members behind; they must not leak into the next document. After a parse that
        // succeeded both are empty already, and removeAll(keepingCapacity:) would still go through the generic
        // replaceSubrange.
        if !stack.isEmpty || stack.capacity > keptCapacity {
            stack.removeAll(keepingCapacity: stack.capacity <= keptCapacity)
        }
        if !openKeys.isEmpty { openKeys.removeAll(keepingCapacity: true) }
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
        // `lastKnownOrdinal` is still the key's: nothing is parsed between a key and its value.
        if depth >= payloadDepth && inObject && Self.isPayloadKey(lastKnownOrdinal, pendingKey) {
            return .raw(try captureValue(s))
        }
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
        openKeys.append(keys)
        keys = KeySet()
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
        keys.insert(ordinal: lastKnownOrdinal)
        try expect(ASCII.colon, s, "':'")
    }

    /// Builds the innermost container from its members on the stack, pops them with its marker, and makes the
    /// enclosing container innermost again.
    private mutating func closeContainer() -> JSON {
        // Each member is moved out of its stack slot by swapping in a trivial placeholder: a move costs no retain and
        // release, where copying the member and then popping it costs one of each. Explicit loops, because
        // Array(slice), slice.map, Array(repeating:count:) and reverse() go through generic collection code,
        // several times slower for these few members, and removeLast(k) through the generic replaceSubrange.
        let value: JSON
        let end = stack.count
        if inObject {
            var members: [JSONObject.Member] = []
            members.reserveCapacity(end - membersStart)
            for i in membersStart..<end {
                var member = JSONObject.Member(key: "", value: .null)
                swap(&member, &stack[i])
                members.append(member)
            }
            // Keys that are all distinct known strings need no duplicate check.
            value = .object(keys.areDistinct ? JSONObject(distinct: members) : JSONObject(lastWins: members))
        } else {
            var elements: [JSON] = []
            elements.reserveCapacity(end - membersStart)
            for i in membersStart..<end {
                var element = JSON.null
                swap(&element, &stack[i].value)
                elements.append(element)
            }
            value = .array(elements)
        }
        // What is left above the marker is placeholders, which cost nothing to drop.
        while stack.count > membersStart { stack.removeLast() }
        let marker = stack.removeLast()
        guard case .int(let saved) = marker.value else { preconditionFailure("corrupt parser stack") }
        pendingKey = marker.key
        inObject = saved & 1 == 1
        membersStart = Int(saved >> 1)
        keys = openKeys.removeLast()
        depth -= 1
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

// MARK: - Key sets

/// The keys of one object as positions in `KnownStrings.all`, while each is one of those strings and none repeats.
/// Known strings are ASCII, so two are equal as `String`s exactly when they are the same constant: a set that stays
/// distinct proves the object has no repeated key without comparing any strings.
struct KeySet {
    private var low: UInt64 = 0
    private var high: UInt64 = 0
    /// Whether every key so far was a known string and none repeated.
    private(set) var areDistinct = true

    /// Adds a key by its position in `KnownStrings.all`, or -1 for any other string.
    @inline(__always)
    mutating func insert(ordinal: Int) {
        guard areDistinct else { return }
        guard ordinal >= 0 && ordinal < 128 else {
            areDistinct = false
            return
        }
        let bit: UInt64 = 1 &<< UInt64(ordinal & 63)
        if ordinal < 64 {
            if low & bit != 0 { areDistinct = false }
            low |= bit
        } else {
            if high & bit != 0 { areDistinct = false }
            high |= bit
        }
    }
}

// MARK: - Strings

extension Parser {
    /// Parses a string starting at its opening quote. Strings without escapes are validated and copied once.
    mutating func parseString(_ s: Span<UInt8>) throws(JSONParseError) -> String {
        index += 1
        let start = index
        // The scan keeps its position in a local and stores it back once: `index` is the parser's, and written on
        // every byte it cost a store per byte.
        var i = start
        var packed = PackedBytes()
        while i < s.count {
            let b = s[i]
            // Every byte that ends the fast path is at most '\\' (quote, backslash, controls): lowercase letters
            // and '_' pass with one comparison.
            if b <= ASCII.backslash {
                if b == ASCII.quote {
                    index = i
                    let string: String
                    if let known = KnownStrings.match(packed) {
                        string = known.string
                        lastKnownOrdinal = known.ordinal
                    } else {
                        string = try decodeUTF8(s, start..<i)
                        lastKnownOrdinal = -1
                    }
                    index = i + 1
                    return string
                }
                if b == ASCII.backslash {
                    index = i
                    // Written with escapes, even a known string's bytes are not its packed form.
                    lastKnownOrdinal = -1
                    return try parseEscapedString(s, from: start)
                }
                if b < 0x20 {
                    index = i
                    throw error("unescaped control character in string")
                }
            }
            packed.append(b)
            i += 1
        }
        index = i
        throw error("unterminated string", at: start - 1)
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
        guard keepsNumberText else {
            return .double(try makeDouble(s, start: start, mantissa, exponent - fractionDigits, isNegative))
        }
        // Kept as a Double only when its shortest form is the text itself, so nothing the sender wrote is lost.
        let text = try decodeUTF8(s, start..<index)
        if !isIntegral, let value = Double(text), value.isFinite, "\(value)" == text { return .double(value) }
        return .raw(RawJSON(text))
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

// MARK: - Payloads kept as text

extension Parser {
    private static let inputOrdinal = KnownStrings.all.firstIndex(of: "input") ?? -1
    private static let resultOrdinal = KnownStrings.all.firstIndex(of: "result") ?? -1
    private static let progressOrdinal = KnownStrings.all.firstIndex(of: "progress") ?? -1
    private static let dataOrdinal = KnownStrings.all.firstIndex(of: "data") ?? -1

    /// Whether a member key (its known-string ordinal, and the key itself for one written with escapes) names a
    /// payload.
    @inline(__always)
    static func isPayloadKey(_ ordinal: Int, _ key: String) -> Bool {
        if ordinal >= 0 {
            return ordinal == inputOrdinal || ordinal == resultOrdinal || ordinal == progressOrdinal
                || ordinal == dataOrdinal
        }
        return key == "input" || key == "result" || key == "progress" || key == "data"
    }

    /// Checks the value at `index` against the grammar without building it and returns its text, with whitespace
    /// outside strings dropped. Numbers are checked for form only: `1e400` and 30-digit integers are kept as written.
    mutating func captureValue(_ s: Span<UInt8>) throws(JSONParseError) -> RawJSON {
        skipWhitespace(s)
        let start = index
        var spaced = false
        try skipValue(s, spaced: &spaced)
        let end = index
        let count = end - start
        // The commonest payloads share one array each.
        if count == 4 && s[start] == UInt8(ascii: "n") { return .null }
        if count == 2 && s[start] == ASCII.openBrace { return .emptyObject }
        var bytes: [UInt8] = []
        if !spaced {
            bytes.append(addingCapacity: count) { out in
                for i in start..<end { out.append(s[i]) }
            }
            return RawJSON(bytes: bytes)
        }
        bytes.reserveCapacity(count)
        var inString = false
        var escaped = false
        for i in start..<end {
            let b = s[i]
            if inString {
                bytes.append(b)
                if escaped {
                    escaped = false
                } else if b == ASCII.backslash {
                    escaped = true
                } else if b == ASCII.quote {
                    inString = false
                }
            } else if b != ASCII.space && b != ASCII.newline && b != ASCII.carriageReturn && b != ASCII.tab {
                bytes.append(b)
                if b == ASCII.quote { inString = true }
            }
        }
        return RawJSON(bytes: bytes)
    }

    /// Skips whitespace, noting whether there was any.
    @inline(__always)
    private mutating func skipSpace(_ s: Span<UInt8>, _ spaced: inout Bool) {
        let before = index
        skipWhitespace(s)
        if index != before { spaced = true }
    }

    /// Checks one value of any depth (up to `maxDepth` in all) and moves past it, building nothing: the containers
    /// open within it are a bit each, object or array.
    private mutating func skipValue(_ s: Span<UInt8>, spaced: inout Bool) throws(JSONParseError) {
        var open = 0
        var kinds: [UInt64] = []
        var top: UInt64 = 0  // bit k: the (k+1)th open container, while fewer than 64 are open, is an object
        func isObject(_ level: Int, _ top: UInt64, _ kinds: [UInt64]) -> Bool {
            let word = level >> 6 == 0 ? top : kinds[(level >> 6) - 1]
            return word >> UInt64(level & 63) & 1 == 1
        }
        nextValue: while true {
            skipSpace(s, &spaced)
            let b = try peek(s)
            switch b {
            case ASCII.quote: try skipString(s)
            case ASCII.openBrace, ASCII.openBracket:
                guard depth + open < maxDepth else { throw error("nesting deeper than \(maxDepth)") }
                let isObjectValue = b == ASCII.openBrace
                index += 1
                skipSpace(s, &spaced)
                if try peek(s) == (isObjectValue ? ASCII.closeBrace : ASCII.closeBracket) {
                    index += 1
                } else {
                    let bit: UInt64 = isObjectValue ? 1 << UInt64(open & 63) : 0
                    if open >> 6 == 0 {
                        top |= bit
                    } else {
                        if (open & 63) == 0 { kinds.append(0) }
                        kinds[(open >> 6) - 1] |= bit
                    }
                    open += 1
                    if isObjectValue { try skipKey(s, &spaced) }
                    continue nextValue
                }
            case ASCII.minus, ASCII.zero...ASCII.nine: try skipNumber(s)
            case UInt8(ascii: "t"): _ = try parseLiteral("true", .null, s)
            case UInt8(ascii: "f"): _ = try parseLiteral("false", .null, s)
            case UInt8(ascii: "n"): _ = try parseLiteral("null", .null, s)
            default: throw error(b < 0x80 ? "unexpected character" : "unexpected non-ASCII byte outside a string")
            }
            while open > 0 {
                let inObjectValue = isObject(open - 1, top, kinds)
                skipSpace(s, &spaced)
                let c = try peek(s)
                index += 1
                if c == ASCII.comma {
                    if inObjectValue { try skipKey(s, &spaced) }
                    continue nextValue
                }
                guard c == (inObjectValue ? ASCII.closeBrace : ASCII.closeBracket) else {
                    throw error(inObjectValue ? "expected ',' or '}'" : "expected ',' or ']'", at: index - 1)
                }
                open -= 1
                if open >> 6 == 0 {
                    top &= ~(1 << UInt64(open & 63))
                } else {
                    kinds[(open >> 6) - 1] &= ~(1 << UInt64(open & 63))
                    if (open & 63) == 0 { kinds.removeLast() }
                }
            }
            return
        }
    }

    private mutating func skipKey(_ s: Span<UInt8>, _ spaced: inout Bool) throws(JSONParseError) {
        skipSpace(s, &spaced)
        guard try peek(s) == ASCII.quote else { throw error("expected a string key") }
        try skipString(s)
        skipSpace(s, &spaced)
        guard try peek(s) == ASCII.colon else { throw error("expected ':'") }
        index += 1
    }

    /// Checks the string at `index` (its opening quote) as `parseString` does, without decoding it.
    private mutating func skipString(_ s: Span<UInt8>) throws(JSONParseError) {
        let start = index + 1
        var i = start
        var runStart = start
        var nonASCII = false
        while i < s.count {
            let b = s[i]
            if b <= ASCII.backslash {
                if b == ASCII.quote {
                    if nonASCII { try validateUTF8(s, runStart..<i) }
                    index = i + 1
                    return
                }
                if b == ASCII.backslash {
                    if nonASCII { try validateUTF8(s, runStart..<i) }
                    nonASCII = false
                    index = i
                    try skipEscape(s)
                    i = index
                    runStart = i
                    continue
                }
                if b < 0x20 {
                    index = i
                    throw error("unescaped control character in string")
                }
            } else if b >= 0x80 {
                nonASCII = true
            }
            i += 1
        }
        index = i
        throw error("unterminated string", at: start - 1)
    }

    private func validateUTF8(_ s: Span<UInt8>, _ range: Range<Int>) throws(JSONParseError) {
        do throws(UTF8.ValidationError) {
            _ = try UTF8Span(validating: s.extracting(range))
        } catch {
            throw self.error("invalid UTF-8 in string", at: range.lowerBound + error.byteOffsets.lowerBound)
        }
    }

    /// Checks the escape at `index` (its backslash) and moves past it.
    private mutating func skipEscape(_ s: Span<UInt8>) throws(JSONParseError) {
        let escapeStart = index
        index += 1
        let c = try peek(s)
        index += 1
        switch c {
        case ASCII.quote, ASCII.backslash, ASCII.slash, UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
            UInt8(ascii: "r"), UInt8(ascii: "t"):
            return
        case UInt8(ascii: "u"): _ = try parseUnicodeEscape(s, escapeStart: escapeStart)
        default: throw error("invalid escape", at: escapeStart)
        }
    }

    /// Checks the number at `index` against the grammar (no range check) and moves past it.
    private mutating func skipNumber(_ s: Span<UInt8>) throws(JSONParseError) {
        let start = index
        if s[index] == ASCII.minus { index += 1 }
        guard index < s.count, ASCII.isDigit(s[index]) else { throw error("expected a digit") }
        if s[index] == ASCII.zero {
            index += 1
            if index < s.count, ASCII.isDigit(s[index]) { throw error("leading zero in number", at: start) }
        } else {
            while index < s.count, ASCII.isDigit(s[index]) { index += 1 }
        }
        if index < s.count, s[index] == ASCII.dot {
            index += 1
            guard index < s.count, ASCII.isDigit(s[index]) else { throw error("expected a digit after '.'") }
            while index < s.count, ASCII.isDigit(s[index]) { index += 1 }
        }
        if index < s.count, s[index] == ASCII.lowerE || s[index] == ASCII.upperE {
            index += 1
            if index < s.count, s[index] == ASCII.minus || s[index] == ASCII.plus { index += 1 }
            guard index < s.count, ASCII.isDigit(s[index]) else { throw error("expected a digit in exponent") }
            while index < s.count, ASCII.isDigit(s[index]) { index += 1 }
        }
    }
}
