import FlowlineProtocol
import Testing

struct RPCErrorTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var error: RPCError
        var code: Int
        var message: String
        var data: JSON?
        var testDescription: String { "\(code)" }
    }

    /// Every row of SPEC §3's error table.
    static let table: [Row] = [
        Row(
            error: .parseError("unexpected end of input at byte 3"),
            code: -32700,
            message: "Parse error: unexpected end of input at byte 3"
        ),
        Row(error: .invalidRequest("expected an object"), code: -32600, message: "Invalid Request: expected an object"),
        Row(
            error: .methodNotFound("workflow.frob"),
            code: -32601,
            message: "Method not found: workflow.frob",
            data: ["method": "workflow.frob"]
        ),
        Row(
            error: .invalidParams("must be at most 1000", path: "limit"),
            code: -32602,
            message: "Invalid params: must be at most 1000",
            data: ["path": "limit"]
        ),
        Row(error: .unauthorized, code: -32001, message: "Unauthorized"),
        Row(error: .notFound("workflow w-1"), code: -32002, message: "Not found: workflow w-1"),
        Row(error: .staleLease, code: -32003, message: "Stale lease"),
        Row(
            error: .lineTooLong(limit: 1_048_576),
            code: -32004,
            message: "Line too long: longer than 1048576 bytes",
            data: ["limit": 1_048_576]
        ),
        Row(error: .unavailable, code: -32005, message: "Unavailable: the journal cannot take writes"),
    ]

    @Test("each constructor has its code, message and data", arguments: table)
    func codeTable(row: Row) {
        #expect(row.error.code == row.code)
        #expect(row.error.message == row.message)
        #expect(row.error.data == row.data)
    }

    @Test("each error encodes as a response line and decodes back", arguments: table)
    func encodesAndDecodes(row: Row) throws {
        let line = RPCEncoder.error(id: 9, row.error)
        #expect(line.last == UInt8(ascii: "\n"))
        let message = try RPCMessage.decode(Array(line.dropLast()))
        #expect(message == .errorResponse(id: .int(9), error: row.error))
    }

    @Test("the Code constants match the constructors")
    func codeConstants() {
        #expect(RPCError.parseError("").code == RPCError.Code.parseError)
        #expect(RPCError.invalidRequest("").code == RPCError.Code.invalidRequest)
        #expect(RPCError.methodNotFound("m").code == RPCError.Code.methodNotFound)
        #expect(RPCError.invalidParams("", path: "p").code == RPCError.Code.invalidParams)
        #expect(RPCError.unauthorized.code == RPCError.Code.unauthorized)
        #expect(RPCError.notFound("").code == RPCError.Code.notFound)
        #expect(RPCError.staleLease.code == RPCError.Code.staleLease)
        #expect(RPCError.lineTooLong(limit: 1).code == RPCError.Code.lineTooLong)
        #expect(RPCError.unavailable.code == RPCError.Code.unavailable)
        #expect(RPCError.parseError("").message == "Parse error")
    }
}
