import FlowlineCore
import FlowlineFuzz
import FlowlineProtocol
import Foundation
import Testing

/// Replays the fuzz seed corpus and every input that once broke a fuzz target (tools/fuzz/regressions) through
/// the same harness the libFuzzer targets use; a broken invariant traps, as it would under the fuzzer.
struct FuzzRegressionTests {
    static let fuzzDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("tools/fuzz").path

    static func inputs(_ kind: String) -> [String] {
        ["corpus/\(kind)", "regressions/\(kind)"].flatMap { folder -> [String] in
            let path = fuzzDirectory + "/" + folder
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            return names.filter { !$0.hasPrefix(".") }.sorted().map { "\(folder)/\($0)" }
        }
    }

    private func bytes(_ relative: String) throws -> [UInt8] {
        Array(try #require(FileManager.default.contents(atPath: Self.fuzzDirectory + "/" + relative)))
    }

    @Test("line inputs pass FuzzHarness.line", arguments: inputs("line"))
    func line(_ input: String) throws {
        FuzzHarness.line(try bytes(input))
    }

    @Test("workflow inputs pass FuzzHarness.workflow", arguments: inputs("workflow"))
    func workflow(_ input: String) throws {
        FuzzHarness.workflow(try bytes(input))
    }

    @Test func theCorpusIsThere() {
        #expect(Self.inputs("line").count >= 10)
        #expect(Self.inputs("workflow").count >= 5)
    }

    /// Found by reading ParamReader while writing the fuzz targets: 2^63 passed `d <= Double(Int64.max)` and
    /// trapped in `Int(d)`, so one hello took the daemon down.
    @Test(arguments: ["9223372036854775808", "9223372036854775807.0", "1e19", "-9223372036854775809"])
    func wholeNumbersAtTheEdgeOfInt64AreInvalidParams(number: String) throws {
        let params = try JSONParser.parse(Array(#"{"role":"client","protocol":\#(number)}"#.utf8))
        #expect(throws: RPCError.self) { try Call.decode(method: "hello", params: params) }
        let reader = try ParamReader(params)
        #expect(throws: RPCError.self) { try reader.int("protocol", in: 0...Int64.max) }
    }
}
