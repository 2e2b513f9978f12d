import Foundation
import Testing

@testable import FlowlineProtocol

private func parse(_ text: String) throws(JSONParseError) -> JSON {
    try JSONParser.parse(Array(text.utf8))
}

struct JSONObjectTests {
    @Test("equality ignores member order, not keys, values or count")
    func orderInsensitiveEquality() throws {
        #expect(try parse(#"{"a":1,"b":[2],"c":{"d":null}}"#) == parse(#"{"c":{"d":null},"b":[2],"a":1}"#))
        #expect(JSONObject(["a": 1, "b": 2]) == ["b": 2, "a": 1])
        #expect(JSONObject(["a": 1, "b": 2]) != ["a": 1, "b": 3])
        #expect(JSONObject(["a": 1, "b": 2]) != ["a": 1, "c": 2])
        #expect(JSONObject(["a": 1, "b": 2]) != ["a": 1])
        #expect(JSONObject(["a": 1]) != ["a": 1, "b": 2])
        #expect(JSONObject() == [:])
    }

    @Test("a repeated key keeps its first position and its last value, in the parser and in literals")
    func lastDuplicateWins() throws {
        let parsed = try parse(#"{"a":1,"b":2,"a":3,"c":4,"b":5}"#)
        #expect(parsed.objectValue?.keys == ["a", "b", "c"])
        #expect(parsed.objectValue?.values == [3, 5, 4])
        let literal: JSONObject = ["a": 1, "b": 2, "a": 3]
        #expect(literal.count == 2)
        #expect(literal["a"] == 3)
        #expect(JSON.object(literal) == ["a": 3, "b": 2])
    }

    @Test("keys compare as Strings do, so canonically equivalent keys are one member, as with a dictionary")
    func canonicalEquivalence() throws {
        let parsed = try parse(#"{"\u00e9":1,"e\u0301":2}"#)
        #expect(parsed.objectValue?.count == 1)
        #expect(parsed["\u{E9}"] == 2)
        #expect(parsed["e\u{301}"] == 2)
    }

    @Test("lookup, update, append and removal")
    func lookupAndMutation() {
        var object: JSONObject = ["a": 1, "b": "x"]
        #expect(object["missing"] == nil)
        #expect(object["a"] == 1)
        object["a"] = 2
        object["c"] = true
        #expect(object.keys == ["a", "b", "c"])
        #expect(object["a"] == 2)
        object["b"] = nil
        #expect(object.keys == ["a", "c"])
        #expect(object.removeValue(forKey: "a") == 2)
        #expect(object.removeValue(forKey: "a") == nil)
        #expect(object == ["c": true])
        object["gone"] = nil
        #expect(object.count == 1)
    }

    @Test("an object that grows past the index threshold and shrinks back still finds every member")
    func crossesIndexThreshold() {
        var object = JSONObject()
        let n = JSONObject.indexThreshold * 2
        for i in 0..<n { object["k\(i)"] = .int(Int64(i)) }
        object["k3"] = -3
        #expect(object.count == n)
        for i in 0..<n { #expect(object["k\(i)"] == .int(i == 3 ? -3 : Int64(i))) }
        for i in stride(from: n - 1, through: 1, by: -1) { object["k\(i)"] = nil }
        #expect(object == ["k0": 0])
        #expect(object["k1"] == nil)
    }

    @Test("iterates members in order and describes itself as JSON")
    func iterationAndDescription() {
        let object: JSONObject = ["b": 1, "a": [true]]
        #expect(object.map(\.key) == ["b", "a"])
        #expect(object.first?.value == 1)
        #expect(object.description == #"{"b":1,"a":[true]}"#)
    }

    @Test("converts to and from a dictionary")
    func dictionaryConversion() {
        let dictionary: [String: JSON] = Dictionary(uniqueKeysWithValues: (0..<40).map { ("k\($0)", .int(Int64($0))) })
        let object = JSONObject(dictionary)
        #expect(object.count == 40)
        #expect(object["k39"] == 39)
        #expect(object.dictionary == dictionary)
        #expect(object == JSONObject(dictionary.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))
    }

    @Test("100,000 members with repeated keys parse in linear time and look up by index")
    func largeObjectWithDuplicates() throws {
        let n = 100_000
        var text = "{"
        for i in 0..<n { text += #""k\#(i)":\#(i),"# }
        // Every tenth key again, with a new value that must win.
        for i in stride(from: 0, to: n, by: 10) { text += #""k\#(i)":-1,"# }
        text += #""last":true}"#
        let start = ContinuousClock.now
        let value = try parse(text)
        let reversed = try parse(
            "{" + (0..<n).reversed().map { #""k\#($0)":\#($0 % 10 == 0 ? -1 : $0)"# }.joined(separator: ",")
                + #","last":true}"#
        )
        let equal = value == reversed
        let elapsed = ContinuousClock.now - start
        let object = try #require(value.objectValue)
        #expect(object.count == n + 1)
        #expect(object["k0"] == -1)
        #expect(object["k1"] == 1)
        #expect(object["k99999"] == 99999)
        #expect(object["k100000"] == nil)
        #expect(object.keys.first == "k0")
        #expect(equal)
        // Quadratic duplicate detection or equality would take minutes here; linear takes well under a second even
        // in a debug build. The bound is loose so that a busy machine does not fail it.
        #expect(elapsed < .seconds(20))
    }

    @Test("every known string is recognised by its bytes, and near misses are not")
    func knownStrings() {
        func match(_ text: String) -> (string: String, ordinal: Int)? {
            let bytes = Array(text.utf8)
            return KnownStrings.match(bytes.span, 0..<bytes.count)
        }
        for (ordinal, string) in KnownStrings.all.enumerated() {
            #expect(match(string)?.string == string)
            #expect(match(string)?.ordinal == ordinal, "\(string)")
        }
        for miss in ["", "i", "ids", "jsonrpc2", "Jsonrpc", "workflow_i", "workflow_idd", "task.complete.", "2.00"] {
            #expect(match(miss) == nil)
        }
        #expect(Set(KnownStrings.all).count == KnownStrings.all.count)
        // The parser's KeySet has a bit for each.
        #expect(KnownStrings.all.count <= 128)
        #expect(KnownStrings.all.allSatisfy { $0.utf8.allSatisfy { $0 < 0x80 } })
    }

    @Test("repeated keys are merged whether they are known strings, escaped known strings or other strings")
    func repeatedKeysInEveryForm() throws {
        #expect(try parse(#"{"id":1,"method":"a","id":2}"#) == ["id": 2, "method": "a"])
        #expect(try parse(#"{"id":1,"\u0069d":2}"#) == ["id": 2])
        #expect(try parse(#"{"\u0069d":1,"id":2}"#) == ["id": 2])
        #expect(try parse(#"{"x":1,"id":2,"x":3}"#) == ["x": 3, "id": 2])
        let merged = try parse(#"{"id":1,"params":{"id":5,"lease":"l"},"id":2,"jsonrpc":"2.0"}"#)
        #expect(merged == ["id": 2, "params": ["id": 5, "lease": "l"], "jsonrpc": "2.0"])
        guard case .object(let object) = merged else { return }
        #expect(object.keys == ["id", "params", "jsonrpc"])
        // A precomposed and a decomposed key are one key, as in a dictionary.
        #expect(try parse(#"{"\u00e9":1,"e\u0301":2}"#) == ["é": 2])
    }
}
