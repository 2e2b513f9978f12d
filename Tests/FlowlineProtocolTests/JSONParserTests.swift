import FlowlineProtocol
import Testing

private func parse(_ text: String, maxDepth: Int = 256) throws(JSONParseError) -> JSON {
    try JSONParser.parse(Array(text.utf8), maxDepth: maxDepth)
}

private func parseError(_ bytes: [UInt8]) -> JSONParseError? {
    do {
        _ = try JSONParser.parse(bytes)
        return nil
    } catch {
        return error
    }
}

struct JSONParserTests {
    // MARK: - Values

    @Test("scalars, containers and whitespace parse to the expected values")
    func parsesEveryType() throws {
        #expect(try parse("null") == .null)
        #expect(try parse(" \t\r\ntrue\n") == .bool(true))
        #expect(try parse("false") == .bool(false))
        #expect(try parse("42") == .int(42))
        #expect(try parse("-1.5") == .double(-1.5))
        #expect(try parse(#""hi""#) == .string("hi"))
        #expect(try parse("[]") == .array([]))
        #expect(try parse("{}") == .object([:]))
        #expect(try parse("[ 1 , [ ] , { } ]") == [1, [], [:]])
        let nested = try parse(#"{"a":[1,{"b":null}],"c":"d","e":{"f":true}}"#)
        #expect(nested == ["a": [1, ["b": nil]], "c": "d", "e": ["f": true]])
    }

    @Test("a duplicate key keeps its last value")
    func duplicateKeyLastWins() throws {
        #expect(try parse(#"{"a":1,"a":2}"#) == ["a": 2])
    }

    @Test("an ArraySlice parses and reports offsets from its start")
    func parsesSlice() throws {
        let bytes = Array(#"xx[1,2]yy"#.utf8)
        #expect(try JSONParser.parse(bytes[2..<7]) == [1, 2])
        #expect(throws: JSONParseError(offset: 5, message: "trailing data after the JSON value")) {
            try JSONParser.parse(bytes[2...])
        }
    }

    // MARK: - Numbers

    @Test(
        "numbers map to int or double",
        arguments: [
            ("0", JSON.int(0)), ("-0", .int(0)), ("-0.0", .double(-0.0)), ("1e308", .double(1e308)),
            ("9223372036854775807", .int(.max)), ("-9223372036854775808", .int(.min)),
            ("9223372036854775808", .double(9_223_372_036_854_775_808)),
            ("-9223372036854775809", .double(-9_223_372_036_854_775_808)),
            ("1.0", .double(1)), ("1E2", .double(100)), ("2.5e-3", .double(0.0025)), ("1e-999", .double(0)),
            ("0.1", .double(0.1)), ("123456789012345678901234567890", .double(1.2345678901234568e29)),
            ("4.9406564584124654e-324", .double(.leastNonzeroMagnitude)),
            ("1.7976931348623157e308", .double(.greatestFiniteMagnitude)),
        ]
    )
    func numbers(text: String, expected: JSON) throws {
        let value = try parse(text)
        #expect(value == expected)
        if case .double(let d) = value, case .double(let e) = expected {
            #expect(d.sign == e.sign)
        }
    }

    @Test(
        "malformed or out-of-range numbers are rejected",
        arguments: [
            "1e999", "-1e999", "01", "-01", "00", "1.", ".5", "-", "+1", "1e", "1e+", "0x10", "NaN", "Infinity",
        ]
    )
    func badNumbers(text: String) {
        #expect(throws: JSONParseError.self) { try parse(text) }
    }

    @Test("a non-finite number reports where it starts")
    func outOfRangeOffset() {
        #expect(throws: JSONParseError(offset: 1, message: "number out of range")) { try parse("[1e999]") }
    }

    // MARK: - Strings

    @Test(
        "escapes decode, including surrogate pairs",
        arguments: [
            (#""\ud83d\ude00""#, "😀"), (#""\"\\\/\b\f\n\r\t""#, "\"\\/\u{8}\u{c}\n\r\t"),
            (#""a\u00e9b\u0000""#, "aéb\u{0}"), (#""caf\u00E9 ☕ 😀""#, "café ☕ 😀"), (#""plain é""#, "plain é"),
        ]
    )
    func escapes(text: String, expected: String) throws {
        #expect(try parse(text) == .string(expected))
    }

    @Test(
        "bad escapes and lone surrogates are rejected",
        arguments: [
            #""\ud83d""#, #""\ud83dx""#, #""\ud83d\u0041""#, #""\ude00""#, #""\x""#, #""\u12""#, #""\u12g4""#,
            #""\"#, #""abc"#,
        ]
    )
    func badEscapes(text: String) {
        #expect(throws: JSONParseError.self) { try parse(text) }
    }

    @Test(
        "invalid UTF-8 is rejected in strings and outside them",
        arguments: [
            [0x22, 0xC3, 0x28, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22],
            [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], [0x22, 0xFF, 0x22], [0x22, 0x80, 0x22], [0x22, 0xE2, 0x82, 0x22],
            [0x22, 0x5C, 0x6E, 0xC3, 0x28, 0x22], [0xC3, 0xA9], [0x5B, 0xC3, 0xA9, 0x5D], [0xEF, 0xBB, 0xBF, 0x31],
        ] as [[UInt8]]
    )
    func invalidUTF8(bytes: [UInt8]) {
        #expect(parseError(bytes) != nil)
    }

    @Test("an invalid UTF-8 byte is reported at its offset")
    func invalidUTF8Offset() {
        #expect(parseError([0x22, 0x61, 0xC0, 0xAF, 0x22])?.offset == 2)
        #expect(parseError([0x22, 0x5C, 0x6E, 0x61, 0xED, 0xA0, 0x80, 0x22])?.offset == 4)
    }

    @Test("control characters must be escaped", arguments: [0x00, 0x09, 0x0A, 0x1F] as [UInt8])
    func controlCharacters(byte: UInt8) {
        #expect(parseError([0x22, byte, 0x22]) != nil)
        #expect(parseError([0x22, 0x5C, 0x6E, byte, 0x22]) != nil)
    }

    // MARK: - Structure

    @Test(
        "malformed documents are rejected",
        arguments: [
            "", " ", "[1,]", "[,1]", "[1 2]", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{1:2}", "{'a':1}", "[", "{",
            "]", "tru", "nul", "truex", "[1]]", "{} {}", "1 2", "\"a\" x", "null\u{0}",
        ]
    )
    func malformed(text: String) {
        #expect(throws: JSONParseError.self) { try parse(text) }
    }

    @Test("trailing garbage is rejected at its offset")
    func trailingGarbage() {
        #expect(throws: JSONParseError(offset: 4, message: "trailing data after the JSON value")) {
            try parse("{}  x")
        }
    }

    @Test("10,000-deep nesting is rejected without recursion", arguments: ["[", "{\"k\":"])
    func deepNestingRejected(opener: String) {
        let text = String(repeating: opener, count: 10_000)
        #expect(throws: JSONParseError(offset: 256 * opener.utf8.count, message: "nesting deeper than 256")) {
            try parse(text)
        }
    }

    @Test("nesting up to maxDepth is accepted, one more is not")
    func depthLimit() throws {
        func nested(_ depth: Int) -> String {
            String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        }
        #expect(try parse(nested(256)) != .null)
        #expect(throws: JSONParseError.self) { try parse(nested(257)) }
        #expect(try parse(nested(3), maxDepth: 3) == [[[]]])
        #expect(throws: JSONParseError.self) { try parse(nested(4), maxDepth: 3) }
    }

    @Test("a generous maxDepth still parses very deep input iteratively")
    func veryDeepAllowed() throws {
        let depth = 100_000
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        var value = try parse(text, maxDepth: depth)
        var seen = 0
        while case .array(let inner) = value, let first = inner.first {
            seen += 1
            value = first
        }
        #expect(seen == depth - 1)
    }
}
