import FlowlineCore
import FlowlineProtocol
import Testing

/// SPEC §7 in the codec: a daemon's parser keeps payloads as the sender's text, checked as strictly as any JSON.
struct PayloadCaptureTests {
    static let tricky =
        #"{"zz":12345678901234567890,"aa":[1e400,0.3333333333333333333333,-9223372036854775809],"#
        + #""s":"\u00e9\n\"\\ \ud83d\ude00 é","d":[[{"x":-0.0e-5,"b":{}}]],"n":null,"E":1E+2}"#
    static let spaced =
        #" { "zz" : 12345678901234567890 ,"aa":[ 1e400 ,0.3333333333333333333333,"#
        + "\t\r" + #"-9223372036854775809],"s":"\u00e9\n\"\\ \ud83d\ude00 é","d":[[{"x":-0.0e-5,"b":{ }}]],"#
        + #""n" : null,"E":1E+2 } "#

    private func parse(_ text: String) throws(JSONParseError) -> JSON {
        var parser = JSONLineParser(capturesPayloads: true)
        return try parser.parse(Array(text.utf8))
    }

    @Test func payloadsInParamsComeBackAsTheirTextWithoutInsignificantWhitespace() throws {
        let line =
            #"{"jsonrpc":"2.0","id":1,"method":"m","params":{"input":\#(Self.spaced),"timeout_s":5,"#
            + #""tasks":[{"id":"a","input":{"b":1,"a":2},"retry":{"max_attempts":3}}],"result":[1e400],"#
            + #""progress":"50 %","future":{"poll":{"input":"x"}}}}"#
        let message = try parse(line)
        let params = try #require(message["params"])
        #expect(params["input"] == .raw(RawJSON(Self.tricky)))
        #expect(params["tasks"]?[0]?["input"] == .raw(RawJSON(#"{"b":1,"a":2}"#)))
        #expect(params["result"] == .raw(RawJSON("[1e400]")))
        #expect(params["progress"] == .raw(RawJSON(#""50 %""#)))
        #expect(params["future"]?["poll"]?["input"] == .raw(RawJSON(#""x""#)))
        // Everything else is built as before.
        #expect(params["timeout_s"] == .int(5))
        #expect(params["tasks"]?[0]?["retry"]?["max_attempts"] == .int(3))
        #expect(message["id"] == .int(1))
    }

    @Test func aResponsesResultIsNotAPayloadOfTheMessage() throws {
        let message = try parse(#"{"jsonrpc":"2.0","id":1,"result":{"input":{"a":1}}}"#)
        #expect(message["result"] == ["input": .raw(RawJSON(#"{"a":1}"#))])
    }

    @Test func numbersOutsidePayloadsAreCheckedAsBefore() {
        #expect(throws: JSONParseError.self) { try parse(#"{"params":{"timeout_s":1e400}}"#) }
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array(#"{"params":{"input":1e400}}"#.utf8)) }
    }

    /// A payload that is not JSON fails exactly where and as the building parser fails on it.
    @Test(arguments: [
        #""abc"#, #""a\x""#, #""\ud800""#, #""\udc00x""#, "\"a\u{1}b\"", "01", "-", "1.", "1e", "1e+", "[1,]",
        #"{"a" 1}"#, #"{"a":1,}"#, #"{1:2}"#, "[1 2]", "tru", "nul", "+1", "[", #"{"a":[}"#, "\u{7F}",
    ])
    func badPayloadsFailAsTheBuildingParserFails(payload: String) {
        let line = Array(#"{"params":{"input":"#.utf8) + Array(payload.utf8) + Array("}}".utf8)
        var capturing = JSONLineParser(capturesPayloads: true)
        let kept = Result { () throws(JSONParseError) in try capturing.parse(line) }
        let built = Result { () throws(JSONParseError) in try JSONParser.parse(line) }
        guard case .failure(let keptError) = kept, case .failure(let builtError) = built else {
            Issue.record("\(payload) was accepted")
            return
        }
        #expect(keptError == builtError, "\(payload)")
    }

    @Test func invalidUTF8InAPayloadStringIsRejectedAtItsByte() {
        for bad: [UInt8] in [[0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]] {
            let line = Array(#"{"params":{"input":"ok "#.utf8) + bad + Array(#""}}"#.utf8)
            var capturing = JSONLineParser(capturesPayloads: true)
            let kept = Result { () throws(JSONParseError) in try capturing.parse(line) }
            let built = Result { () throws(JSONParseError) in try JSONParser.parse(line) }
            #expect(kept == built)
            if case .success = kept { Issue.record("\(bad) was accepted") }
        }
    }

    @Test func payloadNestingCountsTowardsTheDepthLimit() throws {
        let deep = { (n: Int) in String(repeating: "[", count: n) + String(repeating: "]", count: n) }
        // The message and params are two levels, so 254 more is the most of 256.
        var parser = JSONLineParser(capturesPayloads: true)
        #expect(try parser.parse(Array(#"{"params":{"input":\#(deep(254))}}"#.utf8))["params"] != nil)
        #expect(throws: JSONParseError.self) { try parser.parse(Array(#"{"params":{"input":\#(deep(255))}}"#.utf8)) }
        let wide = String(repeating: "[", count: 200) + "{}" + String(repeating: "]", count: 200)
        #expect(
            try parser.parse(Array(#"{"params":{"input":\#(wide)}}"#.utf8))["params"]?["input"] == .raw(RawJSON(wide))
        )
    }

    // MARK: - Calls

    @Test func aPollAnswerKeptAsTextIsStillReadAsOne() throws {
        let message = try parse(#"{"params":{"lease":"L1","result":{ "done" : true, "result" : {"b":1,"a":1e400} }}}"#)
        guard
            case .complete(_, let result, let poll) = try Call.decode(
                method: "task.complete",
                params: message["params"]!
            )
        else {
            Issue.record("not a completion")
            return
        }
        #expect(result == RawJSON(#"{"done":true,"result":{"b":1,"a":1e400}}"#))
        #expect(poll?.done == true)
        #expect(poll?.result == RawJSON(#"{"b":1,"a":1e400}"#))
    }

    @Test func progressKeptAsTextMustStillBeANumberOrAString() throws {
        for (progress, ok) in [
            ("12345678901234567890.5", true), (#""half""#, true), ("null", true), ("{}", false), ("[1]", false),
        ] {
            let message = try parse(#"{"params":{"lease":"L1","progress":\#(progress)}}"#)
            let decoded = Result { () throws(RPCError) in
                try Call.decode(method: "task.heartbeat", params: message["params"]!)
            }
            switch decoded {
            case .success(.heartbeat(_, let kept)):
                #expect(ok && kept == (progress == "null" ? nil : RawJSON(progress)), "\(progress)")
            case .success: Issue.record("not a heartbeat")
            case .failure(let error): #expect(!ok && error.data?["path"] == "progress", "\(progress)")
            }
        }
    }

    @Test func aDocumentKeepsItsPayloadsAndMetadataAndRejectsUnknownFields() throws {
        let message = try parse(
            #"{"params":{"name":"w","input":{"z":1,"a":0.10},"metadata":{"team":"data","env":"prod"},"#
                + #""tasks":[{"id":"a","handler":"h","input":12345678901234567890}]}}"#
        )
        guard case .submit(let spec) = try Call.decode(method: "workflow.submit", params: message["params"]!) else {
            Issue.record("not a submission")
            return
        }
        #expect(spec.input == RawJSON(#"{"z":1,"a":0.10}"#))
        #expect(spec.tasks[0].input == RawJSON("12345678901234567890"))
        #expect(spec.metadata == [MetadataEntry(key: "team", value: "data"), MetadataEntry(key: "env", value: "prod")])
        for (document, path) in [
            (#"{"name":"w","tasks":[{"id":"a","handler":"h","timeout":1}]}"#, "tasks[0].timeout"),
            (#"{"name":"w","tags":[],"tasks":[{"id":"a","handler":"h"}]}"#, "tags"),
            (#"{"name":"w","tasks":[{"id":"a","handler":"h","retry":{"backoff":1}}]}"#, "tasks[0].retry.backoff"),
        ] {
            let params = try #require(try parse(#"{"params":\#(document)}"#)["params"])
            #expect(throws: RPCError.invalidParams("is not a field here", path: path)) {
                try Call.decode(method: "workflow.submit", params: params)
            }
        }
    }

    // MARK: - Equivalence, for -32006

    @Test(arguments: [
        (#"{"a":1,"b":[1,2]}"#, #"{ "b" : [1, 2], "a" : 1 }"#, true),
        ("12345678901234567890", "1234567890123456789.0e1", true),
        ("1.50", "15e-1", true),
        ("0", "-0.0e7", true),
        ("100", "1E2", true),
        (#""\u00e9\/""#, #""é/""#, true),
        (#""\ud83d\ude00""#, #""😀""#, true),
        (#"{"a":1,"a":2}"#, #"{"a":2}"#, true),
        ("12345678901234567890", "12345678901234567891", false),
        ("0.3333333333333333333333", "0.3333333333333333", false),
        ("1e400", "1e401", false),
        (#"{"a":1}"#, #"{"a":1,"b":null}"#, false),
        ("[1,2]", "[2,1]", false),
        ("null", "false", false),
        (#""a""#, #""A""#, false),
        ("1", #""1""#, false),
    ])
    func payloadsCompareAsJSONValues(a: String, b: String, equal: Bool) {
        #expect(RawJSON(a).isEquivalent(to: RawJSON(b)) == equal, "\(a) vs \(b)")
        #expect(RawJSON(b).isEquivalent(to: RawJSON(a)) == equal, "\(b) vs \(a)")
    }
}
