import FlowlineProtocol
import Testing

private func text(_ build: (inout JSONWriter) -> Void) -> String {
    var writer = JSONWriter()
    build(&writer)
    return String(decoding: writer.bytes, as: UTF8.self)
}

/// The escaping the writer promises, byte by byte: the reference its fast path must agree with.
private func reference(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case "\u{8}": out += "\\b"
        case "\u{c}": out += "\\f"
        case _ where scalar.value < 0x20:
            out += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

struct JSONWriterTests {
    @Test("members and elements get commas, nested containers too")
    func commas() {
        #expect(
            text { w in
                w.beginObject()
                w.key("a")
                w.int(1)
                w.key("b")
                w.int(2)
                w.endObject()
            } == #"{"a":1,"b":2}"#
        )
        #expect(
            text { w in
                w.beginArray()
                w.int(1)
                w.beginObject()
                w.key("x")
                w.beginArray()
                w.endArray()
                w.key("y")
                w.raw(Array("[true]".utf8))
                w.endObject()
                w.string("s")
                w.beginArray()
                w.null()
                w.bool(false)
                w.endArray()
                w.double(0.5)
                w.endArray()
            } == #"[1,{"x":[],"y":[true]},"s",[null,false],0.5]"#
        )
    }

    @Test("objects are written with their members in order (SPEC §7)")
    func membersInOrder() {
        #expect(JSON.object(["b": 1, "a": [true, nil], "c": "x"]).description == #"{"b":1,"a":[true,null],"c":"x"}"#)
    }

    @Test("strings escape quotes, backslashes and control characters")
    func escaping() {
        #expect(text { $0.string("a\"b\\c/é😀") } == #""a\"b\\c/é😀""#)
        #expect(text { $0.string("\n\r\t\u{8}\u{c}\u{0}\u{1f}\u{7f}") } == #""\n\r\t\b\f\u0000\u001f\#u{7f}""#)
    }

    @Test("every control character, quote and backslash is escaped; everything else passes through")
    func escapingEveryByte() throws {
        for scalar in (0..<0x80).compactMap(Unicode.Scalar.init) {
            let plain = "ab\(scalar)cd"
            let written = text { $0.string(plain) }
            let expected: String
            switch scalar.value {
            case 0x22: expected = #"\""#
            case 0x5C: expected = #"\\"#
            case 0x0A: expected = #"\n"#
            case 0x0D: expected = #"\r"#
            case 0x09: expected = #"\t"#
            case 0x08: expected = #"\b"#
            case 0x0C: expected = #"\f"#
            case 0..<0x20: expected = "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
            default: expected = String(scalar)
            }
            #expect(written == "\"ab\(expected)cd\"", "U+\(String(scalar.value, radix: 16))")
            #expect(try JSONParser.parse(Array(written.utf8)) == .string(plain))
        }
    }

    @Test(
        "strings of every length, with an escape at the start, middle or end, or none",
        arguments: [0, 1, 15, 16, 17, 63, 64, 65, 300]
    )
    func escapingAtEveryPosition(length: Int) throws {
        let body = String((0..<length).map { Character(Unicode.Scalar(UInt8(ascii: "a") + UInt8($0 % 26))) })
        var variants = [body, "é" + body + "😀"]
        if length > 0 {
            for at in Set([0, length / 2, length - 1]) {
                var chars = Array(body)
                chars[at] = "\n"
                variants.append(String(chars))
                chars[at] = "\""
                variants.append(String(chars))
            }
        }
        for plain in variants {
            // After other members, so the fallback path's restart must keep what came before.
            var writer = JSONWriter()
            writer.beginObject()
            writer.key("k")
            writer.string("first")
            writer.key(plain)
            writer.string(plain)
            writer.endObject()
            let quoted = reference(plain)
            #expect(String(decoding: writer.bytes, as: UTF8.self) == #"{"k":"first","# + quoted + ":" + quoted + "}")
        }
    }

    @Test(
        "integers are written in decimal",
        arguments: [
            0, 7, -7, 9, 10, -10, 99, 100, 1_234_567_890, 999_999_999_999_999_999, 1_000_000_000_000_000_000,
            Int64.max, Int64.max - 1, Int64.min, Int64.min + 1,
        ] as [Int64]
    )
    func integers(value: Int64) {
        #expect(text { $0.int(value) } == String(value))
    }

    @Test(
        "finite doubles round-trip exactly",
        arguments: [
            0.0, -0.0, 3.0, 0.1, -1.5, 1e308, 1e-5, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
            .leastNormalMagnitude, .pi,
            123_456_789.125, 1e16, 9_007_199_254_740_994,
        ] as [Double]
    )
    func doubles(value: Double) throws {
        let written = text { $0.double(value) }
        let parsed = try JSONParser.parse(Array(written.utf8))
        let back = try #require(parsed.doubleValue)
        #expect(back == value)
        #expect(back.sign == value.sign)
        #expect(written.utf8.count <= 24)
    }

    @Test("non-finite doubles are written as null", arguments: [Double.infinity, -.infinity, .nan])
    func nonFinite(value: Double) {
        #expect(text { $0.double(value) } == "null")
    }

    @Test(
        "every JSON type survives write then parse",
        arguments: [
            JSON.null, true, false, 0, -42, .int(.max), .int(.min), 2.5, -0.001, 1e300, "", "plain", "é\u{0}\n\"\\😀",
            [], [:], [1, "two", [3.5, nil], ["k": false]],
            ["": 1, "a": ["b": ["c": [1, 2, 3]]], "é": "ü", "esc\"ape": "\u{1}"],
        ]
    )
    func roundTrip(value: JSON) throws {
        let bytes = value.encoded
        #expect(try JSONParser.parse(bytes) == value)
        #expect(try JSONParser.parse(bytes).encoded == bytes)
    }
}
