import FlowlineProtocol
import Testing

private func decode(_ text: String) throws(RPCMessage.DecodeFailure) -> RPCMessage {
    try RPCMessage.decode(Array(text.utf8))
}

private func decodeFailure(_ text: String) -> RPCMessage.DecodeFailure? {
    do {
        _ = try decode(text)
        return nil
    } catch {
        return error
    }
}

private func string(_ line: [UInt8]) -> String { String(decoding: line, as: UTF8.self) }

struct RPCMessageTests {
    // MARK: - Decoding

    @Test("a request decodes with its id, method and params")
    func request() throws {
        let message = try decode(#"{"jsonrpc":"2.0","id":1,"method":"workflow.get","params":{"workflow_id":"w1"}}"#)
        #expect(message == .request(id: .int(1), method: "workflow.get", params: ["workflow_id": "w1"]))
    }

    @Test("a notification has no id, and absent params are an empty object")
    func notification() throws {
        #expect(
            try decode(#"{"jsonrpc":"2.0","method":"task.progress","params":[1]}"#)
                == .request(id: nil, method: "task.progress", params: [1])
        )
        #expect(try decode(#"{"method":"stats","jsonrpc":"2.0"}"#) == .request(id: nil, method: "stats", params: [:]))
    }

    @Test("string and null ids are preserved exactly")
    func ids() throws {
        #expect(
            try decode(#"{"jsonrpc":"2.0","id":"req-é-\u00e9","method":"m"}"#)
                == .request(id: .string("req-é-é"), method: "m", params: [:])
        )
        #expect(
            try decode(#"{"jsonrpc":"2.0","id":null,"method":"m"}"#) == .request(id: .null, method: "m", params: [:])
        )
        #expect(
            try decode(#"{"jsonrpc":"2.0","id":-9223372036854775808,"method":"m"}"#)
                == .request(id: .int(.min), method: "m", params: [:])
        )
    }

    @Test("responses and error responses decode")
    func responses() throws {
        #expect(
            try decode(#"{"jsonrpc":"2.0","id":"a","result":{"matched":2}}"#)
                == .response(id: "a", result: ["matched": 2])
        )
        #expect(try decode(#"{"jsonrpc":"2.0","id":3,"result":null}"#) == .response(id: 3, result: nil))
        #expect(
            try decode(#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#)
                == .errorResponse(id: .null, error: RPCError(code: -32700, message: "Parse error"))
        )
    }

    @Test("a line that is not JSON is a parse error with no id")
    func parseError() throws {
        let failure = try #require(decodeFailure(#"{"jsonrpc":"2.0","id":1,"#))
        #expect(failure.id == nil)
        #expect(failure.error.code == -32700)
        #expect(failure.error.message.hasPrefix("Parse error: unexpected end of input"))
    }

    @Test(
        "malformed messages are invalid requests, carrying the id when it could be read",
        arguments: [
            ("[]", nil), ("1", nil), (#""x""#, nil), ("{}", nil),
            (#"{"jsonrpc":"1.0","id":7,"method":"m"}"#, RPCID.int(7)),
            (#"{"id":"s","method":"m"}"#, .string("s")),
            (#"{"jsonrpc":2.0,"id":1,"method":"m"}"#, .int(1)),
            (#"{"jsonrpc":"2.0","id":8,"method":42}"#, .int(8)),
            (#"{"jsonrpc":"2.0","id":8,"method":null}"#, .int(8)),
            (#"{"jsonrpc":"2.0","id":true,"method":"m"}"#, nil),
            (#"{"jsonrpc":"2.0","id":1.5,"method":"m"}"#, nil),
            (#"{"jsonrpc":"2.0","id":[1],"method":"m"}"#, nil),
            (#"{"jsonrpc":"2.0","id":2,"method":"m","params":"x"}"#, .int(2)),
            (#"{"jsonrpc":"2.0","id":2,"method":"m","params":null}"#, .int(2)),
            (#"{"jsonrpc":"2.0","id":3}"#, .int(3)),
            (#"{"jsonrpc":"2.0","result":1}"#, nil),
            (#"{"jsonrpc":"2.0","id":4,"result":1,"error":{"code":1,"message":"m"}}"#, .int(4)),
            (#"{"jsonrpc":"2.0","id":5,"error":{"code":"x","message":"m"}}"#, .int(5)),
            (#"{"jsonrpc":"2.0","id":5,"error":"boom"}"#, .int(5)),
        ]
    )
    func invalidRequests(text: String, id: RPCID?) throws {
        let failure = try #require(decodeFailure(text))
        #expect(failure.error.code == -32600)
        #expect(failure.id == id)
    }

    // MARK: - Encoding

    @Test("responses encode compactly with the id first and a newline")
    func encodeResponse() {
        let line = RPCEncoder.response(id: 7) { w in
            w.beginObject()
            w.key("workflow_id")
            w.string("w1")
            w.key("created")
            w.bool(true)
            w.endObject()
        }
        #expect(string(line) == #"{"jsonrpc":"2.0","id":7,"result":{"workflow_id":"w1","created":true}}"# + "\n")
        #expect(
            string(RPCEncoder.response(id: nil, result: nil)) == #"{"jsonrpc":"2.0","id":null,"result":null}"# + "\n"
        )
        #expect(string(RPCEncoder.response(id: "s", result: [1])) == #"{"jsonrpc":"2.0","id":"s","result":[1]}"# + "\n")
    }

    @Test("errors encode code, message and data")
    func encodeError() {
        #expect(
            string(RPCEncoder.error(id: nil, .lineTooLong(limit: 10)))
                == #"{"jsonrpc":"2.0","id":null,"error":{"code":-32004,"message":"Line too long: longer than 10 bytes","data":{"limit":10}}}"#
                + "\n"
        )
        #expect(
            string(RPCEncoder.error(id: 1, .staleLease))
                == #"{"jsonrpc":"2.0","id":1,"error":{"code":-32003,"message":"Stale lease"}}"# + "\n"
        )
    }

    @Test("requests carry an id; notifications carry none")
    func encodeRequest() throws {
        let request = RPCEncoder.request(id: "r1", method: "workflow.get") { w in
            w.beginObject()
            w.key("workflow_id")
            w.string("w\"1")
            w.endObject()
        }
        #expect(
            string(request) == #"{"jsonrpc":"2.0","id":"r1","method":"workflow.get","params":{"workflow_id":"w\"1"}}"#
                + "\n"
        )
        let notification = RPCEncoder.request(id: nil, method: "task.run", params: ["lease": 3])
        #expect(string(notification) == #"{"jsonrpc":"2.0","method":"task.run","params":{"lease":3}}"# + "\n")
        #expect(
            try RPCMessage.decode(Array(notification.dropLast()))
                == .request(id: nil, method: "task.run", params: ["lease": 3])
        )
        #expect(
            try RPCMessage.decode(Array(request.dropLast()))
                == .request(id: "r1", method: "workflow.get", params: ["workflow_id": "w\"1"])
        )
    }

    @Test("encoded lines frame and decode back")
    func throughFramer() throws {
        var stream = RPCEncoder.request(id: 1, method: "stats", params: [:])
        stream += RPCEncoder.response(id: 1, result: ["uptime_s": 5])
        stream += RPCEncoder.error(id: "x", .notFound("workflow w9"))
        var framer = LineFramer(maxLineBytes: 1024)
        let lines = framer.feed(stream).compactMap { frame -> [UInt8]? in
            if case .line(let bytes) = frame { return bytes }
            return nil
        }
        let messages = try lines.map { line throws(RPCMessage.DecodeFailure) in try RPCMessage.decode(line) }
        #expect(
            messages == [
                .request(id: 1, method: "stats", params: [:]),
                .response(id: 1, result: ["uptime_s": 5]),
                .errorResponse(id: "x", error: .notFound("workflow w9")),
            ]
        )
    }
}
