import FlowlineProtocol
import Testing

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

struct LineFramerTests {
    /// A stream mixing LF and CRLF endings, empty lines, multi-byte UTF-8, lines right at the limit and over it.
    static let limit = 24
    static let golden = bytes(
        "{\"jsonrpc\":\"2.0\"}\n" + "\r\n" + "\n" + "[1,2]\r\n" + "é😀\n"
            + String(repeating: "a", count: 24) + "\n"  // exactly the limit
            + String(repeating: "b", count: 25) + "\n"  // one past it
            + String(repeating: "c", count: 23) + "\r\n"  // the \r counts: exactly the limit
            + String(repeating: "d", count: 24) + "\r\n"  // one past it with its \r
            + String(repeating: "e", count: 60) + "\n" + "x\r\n" + "tail-without-newline"
    )
    static let expected: [LineFramer.Frame] = [
        .line(bytes("{\"jsonrpc\":\"2.0\"}")), .line(bytes("[1,2]")), .line(bytes("é😀")),
        .line(bytes(String(repeating: "a", count: 24))), .tooLong, .line(bytes(String(repeating: "c", count: 23))),
        .tooLong, .tooLong, .line(bytes("x")),
    ]

    @Test("the golden stream frames as expected when fed whole")
    func goldenWhole() {
        var framer = LineFramer(maxLineBytes: Self.limit)
        #expect(framer.feed(Self.golden) == Self.expected)
        #expect(framer.bufferedBytes == "tail-without-newline".utf8.count)
    }

    @Test("splitting the golden stream at every byte boundary gives the same frames")
    func goldenEveryBoundary() {
        for split in 0...Self.golden.count {
            var framer = LineFramer(maxLineBytes: Self.limit)
            let frames = framer.feed(Array(Self.golden[..<split])) + framer.feed(Array(Self.golden[split...]))
            #expect(frames == Self.expected, "split at \(split)")
            #expect(framer.bufferedBytes <= Self.limit)
        }
    }

    @Test("splitting the golden stream at every pair of boundaries gives the same frames")
    func goldenEveryPairOfBoundaries() {
        let golden = Self.golden
        var mismatches: [(Int, Int)] = []
        for first in 0...golden.count {
            for second in first...golden.count {
                var framer = LineFramer(maxLineBytes: Self.limit)
                let frames =
                    framer.feed(golden[..<first]) + framer.feed(golden[first..<second]) + framer.feed(golden[second...])
                if frames != Self.expected { mismatches.append((first, second)) }
            }
        }
        #expect(mismatches.isEmpty, "first mismatches: \(mismatches.prefix(5))")
    }

    @Test("feeding one byte at a time gives the same frames")
    func goldenByteByByte() {
        var framer = LineFramer(maxLineBytes: Self.limit)
        var frames: [LineFramer.Frame] = []
        for byte in Self.golden {
            frames += framer.feed([byte])
            #expect(framer.bufferedBytes <= Self.limit)
        }
        #expect(frames == Self.expected)
    }

    @Test("CRLF and LF endings give the same lines; empty lines are skipped")
    func crlf() {
        var framer = LineFramer(maxLineBytes: 100)
        #expect(
            framer.feed(bytes("a\r\nb\n\r\n\n\rc\r\n")) == [.line(bytes("a")), .line(bytes("b")), .line(bytes("\rc"))]
        )
        // Only the one \r before \n is stripped.
        #expect(framer.feed(bytes("d\r\r\n")) == [.line(bytes("d\r"))])
        #expect(framer.feed(bytes("e\r")) == [])
        #expect(framer.feed(bytes("\n")) == [.line(bytes("e"))])
    }

    @Test("a 100 MB line is reported once, never buffered, and the next line frames fine")
    func hugeLineDiscarded() {
        let limit = 1 << 20
        var framer = LineFramer(maxLineBytes: limit)
        let chunk = [UInt8](repeating: UInt8(ascii: "z"), count: 64 * 1024)
        var frames: [LineFramer.Frame] = []
        var fed = 0
        while fed < 100_000_000 {
            frames += framer.feed(chunk)
            fed += chunk.count
            #expect(framer.bufferedBytes <= limit)
        }
        #expect(frames == [.tooLong])
        #expect(framer.bufferedBytes == 0)
        #expect(framer.feed(bytes("zzz\n{\"id\":1}\n{\"i")) == [.line(bytes("{\"id\":1}"))])
        #expect(framer.feed(bytes("d\":2}\r\n")) == [.line(bytes("{\"id\":2}"))])
    }

    @Test("a line passing the limit is reported as soon as it passes, before its newline")
    func tooLongReportedEarly() {
        var framer = LineFramer(maxLineBytes: 4)
        #expect(framer.feed(bytes("abcd")) == [])
        #expect(framer.bufferedBytes == 4)
        #expect(framer.feed(bytes("e")) == [.tooLong])
        #expect(framer.bufferedBytes == 0)
        #expect(framer.feed(bytes("fghij")) == [])
        #expect(framer.feed(bytes("k\nok\n")) == [.line(bytes("ok"))])
    }
}
