import FlowlineProtocol
import Testing

private func text(_ build: (inout JSONWriter) -> Void) -> String {
    var writer = JSONWriter()
    build(&writer)
    return String(decoding: writer.bytes, as: UTF8.self)
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

    @Test("objects are written with sorted keys")
    func sortedKeys() {
        #expect(JSON.object(["b": 1, "a": [true, nil], "c": "x"]).description == #"{"a":[true,null],"b":1,"c":"x"}"#)
    }

    @Test("strings escape quotes, backslashes and control characters")
    func escaping() {
        #expect(text { $0.string("a\"b\\c/é😀") } == #""a\"b\\c/é😀""#)
        #expect(text { $0.string("\n\r\t\u{8}\u{c}\u{0}\u{1f}\u{7f}") } == #""\n\r\t\b\f\u0000\u001f\#u{7f}""#)
    }

    @Test(
        "integers are written in decimal",
        arguments: [0, 7, -7, 10, 99, 100, 1_234_567_890, Int64.max, Int64.min] as [Int64]
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
