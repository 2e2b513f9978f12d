import FlowlineProtocol
import Testing

struct JSONLineParserTests {
    /// Documents that nest, fail midway through a container, fail at the end, and succeed, in an order where each
    /// one follows a different kind of predecessor.
    private static let documents: [String] = [
        #"{"jsonrpc":"2.0","method":"task.run","params":{"lease":"l-1","deps":{"a":[1,2,{"b":null}]}}}"#,
        #"{"a":[1,{"b":"#,
        #"[1,2,3]"#,
        #"{"a":1,"a":2}"#,
        #"{"x":[[[[]]]],"y":"\u00e9"} trailing"#,
        #"{"k":"v","n":-0.5e3}"#,
        #"[{"a":1},"#,
        #""plain""#,
        #"{"deep":[[[[[[1]]]]]]}"#,
        #"{}"#,
    ]

    @Test("a reused parser gives every document the value or error a fresh parse gives it")
    func reuseMatchesFreshParses() {
        var reused = JSONLineParser(maxDepth: 5)
        for _ in 0..<2 {
            for text in Self.documents {
                let bytes = Array(text.utf8)
                let fresh = Result { () throws(JSONParseError) in try JSONParser.parse(bytes, maxDepth: 5) }
                let again = Result { () throws(JSONParseError) in try reused.parse(bytes) }
                #expect(again == fresh, "\(text)")
                let slice = Result { () throws(JSONParseError) in try reused.parse(bytes[...]) }
                #expect(slice == fresh, "\(text)")
            }
        }
    }

    @Test("a line with more members than the kept storage parses, and so do lines after it")
    func largeLineThenSmallOnes() throws {
        var parser = JSONLineParser()
        let many = "[" + (0..<3000).map(String.init).joined(separator: ",") + "]"
        let parsed = try parser.parse(Array(many.utf8))
        #expect(parsed == .array((0..<3000).map { .int(Int64($0)) }))
        #expect(try parser.parse(Array(#"{"id":7}"#.utf8)) == ["id": 7])
    }
}
