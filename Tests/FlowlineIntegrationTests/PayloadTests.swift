import FlowlineProtocol
import FlowlineTestSupport
import Foundation
import Testing

/// SPEC §7: payloads come back as the sender wrote them, documents are strict, and an id names one document.
/// Payload checks look at the raw lines: a value is verbatim when its compact text appears in the line as sent.
@Suite(.timeLimit(.minutes(2)))
struct PayloadIntegrationTests {
    /// A payload that every lossy step would change: numbers past Int64 and Double, member order, escapes,
    /// non-ASCII text, nesting, an exponent with a capital E. Compact, as the daemon keeps it.
    static let tricky =
        #"{"zz":12345678901234567890,"aa":[1e400,0.3333333333333333333333,-9223372036854775809,"#
        + #"123456789012345678901234567890],"s":"\u00e9\n\"\\ \ud83d\ude00 é😀 \/","#
        + #""d":[[[[[[[[[[[[{"x":-0.0e-5,"b":{}}]]]]]]]]]]]],"n":null,"t":true,"E":1E+2}"#
    /// The same payload as a sender might space it; the spaces inside the string must stay.
    static let spaced =
        #"{ "zz" : 12345678901234567890 ,"aa": [ 1e400, 0.3333333333333333333333 , -9223372036854775809,"#
        + #" 123456789012345678901234567890 ] , "s" : "\u00e9\n\"\\ \ud83d\ude00 é😀 \/","#
        + "\t" + #""d":[[[[[[[[[[[[ {"x":-0.0e-5,"b": { } } ]]]]]]]]]]]], "n" : null,"t":true , "E":1E+2 }"#

    @Test func trickyPayloadsComeBackVerbatimEverywhereThroughRestartsAndCheckpoints() throws {
        let f = try Fixture(arguments: ["--checkpoint-events", "1000000", "--checkpoint-interval", "1000s"])
        let worker = try f.worker()
        let client = try f.client()
        let big = "[" + String(repeating: "[", count: 200) + "-1e-400" + String(repeating: "]", count: 200) + "]"
        #expect(
            try client.submit(
                #"{"name":"p","id":"p1","input":\#(Self.spaced),"tasks":[{"id":"a","handler":"h","input":\#(big)},"#
                    + #"{"id":"b","handler":"h","deps":["a"],"input":\#(Self.tricky)}]}"#
            ) == "p1"
        )
        let runA = try waitLine(worker, containing: #""task_id":"a""#)
        #expect(has(runA, #""input":\#(big)"#))
        #expect(has(runA, #""workflow_input":\#(Self.tricky)"#))
        let leaseA = try lease(in: runA)
        _ = try worker.result("task.heartbeat", #"{"lease":"\#(leaseA)","progress":12345678901234567890.50}"#)
        #expect(
            try rawAnswer(client, "workflow.get", #"{"workflow_id":"p1"}"#).contains(
                #""progress":12345678901234567890.50"#
            )
        )
        _ = try worker.result("task.complete", #"{"lease":"\#(leaseA)","result":\#(Self.spaced)}"#)
        let runB = try waitLine(worker, containing: #""task_id":"b""#)
        #expect(has(runB, #""deps":{"a":\#(Self.tricky)}"#))
        #expect(has(runB, #""input":\#(Self.tricky),"#))
        _ = try worker.result("task.await", #"{"lease":"\#(try lease(in: runB))","future":{"key":"k"}}"#)
        #expect(try client.result("future.resolve", #"{"key":"k","result":\#(Self.spaced)}"#)["matched"] == .int(1))

        let waited = try rawAnswer(client, "workflow.wait", #"{"workflow_id":"p1","timeout_s":10}"#)
        let expectations = [
            #""input":\#(Self.tricky)"#, #""result":{"b":\#(Self.tricky)}"#, #""progress":12345678901234567890.50"#,
        ]
        for expected in expectations { #expect(has(waited, expected), "\(expected)") }
        #expect(has(waited, #""state":"completed""#))
        func checkEverywhere(_ when: String) throws {
            let record = try rawAnswer(try f.client(), "workflow.get", #"{"workflow_id":"p1"}"#)
            for expected in expectations { #expect(has(record, expected), "\(when): \(expected)") }
            // a's result and b's result (from the resolution), each verbatim.
            #expect(record.components(separatedBy: #""result":\#(Self.tricky)"#).count == 3, "\(when)")
            let history = try rawAnswer(try f.client(), "workflow.history", #"{"workflow_id":"p1"}"#)
            // a's result and the resolution that completed b; a's progress.
            #expect(history.components(separatedBy: #""result":\#(Self.tricky)"#).count == 3, "\(when)")
            #expect(has(history, #""progress":12345678901234567890.50"#), "\(when)")
        }
        try checkEverywhere("before a restart")
        try f.crashAndRestart()
        try checkEverywhere("after a SIGKILL restart")
        try f.crashAndRestart(arguments: ["--checkpoint-events", "1"])
        // Something to commit, so that a checkpoint is written holding p1.
        _ = try f.client().submit(#"{"name":"x","id":"x","tasks":[{"id":"x","handler":"x","queue":"none"}]}"#)
        try f.client().pump(seconds: 0.3)
        try f.crashAndRestart()
        try checkEverywhere("after a checkpoint and a restart")
    }

    /// SPEC §7: a rejection's (and a failure's) `data` is a payload too: in the record and the history, verbatim,
    /// before and after a SIGKILL restart.
    @Test func theDataOfARejectionAndOfAFailureIsVerbatim() throws {
        let f = try Fixture()
        let worker = try f.worker()
        let client = try f.client()
        // One workflow each: either outcome, not retryable, ends its workflow.
        #expect(try client.submit(#"{"name":"r","id":"r1","tasks":[{"id":"a","handler":"h"}]}"#) == "r1")
        let runA = try waitLine(worker, containing: #""task_id":"a""#)
        _ = try worker.result("task.await", #"{"lease":"\#(try lease(in: runA))","future":{"key":"rk"}}"#)
        let rejection = #"{"type":"quota","message":"no","retryable":false,"data":\#(Self.spaced)}"#
        #expect(try client.result("future.reject", #"{"key":"rk","error":\#(rejection)}"#)["matched"] == .int(1))
        #expect(try client.submit(#"{"name":"r","id":"r2","tasks":[{"id":"b","handler":"h"}]}"#) == "r2")
        let runB = try waitLine(worker, containing: #""task_id":"b""#)
        let failure = #"{"type":"bad","message":"b","retryable":false,"data":\#(Self.spaced)}"#
        _ = try worker.result("task.fail", #"{"lease":"\#(try lease(in: runB))","error":\#(failure)}"#)
        func check(_ when: String) throws {
            for id in ["r1", "r2"] {
                // The task's error and the workflow's.
                let record = try rawAnswer(try f.client(), "workflow.get", #"{"workflow_id":"\#(id)"}"#)
                #expect(record.components(separatedBy: #""data":\#(Self.tricky)"#).count == 3, "\(when): \(record)")
                let history = try rawAnswer(try f.client(), "workflow.history", #"{"workflow_id":"\#(id)"}"#)
                #expect(has(history, #""data":\#(Self.tricky)"#), "\(when): \(history)")
            }
        }
        try check("before a restart")
        try f.crashAndRestart()
        try check("after a SIGKILL restart")
    }

    /// A value of several megabytes goes in and out unchanged, in task.run and the record.
    @Test func aLargePayloadIsCarriedVerbatim() throws {
        let f = try Fixture()
        let worker = try f.worker()
        let client = try f.client()
        // 10 MB, mostly one string (which the test's own parser reads quickly), with escapes and exact numbers.
        let text = String(repeating: #"lorem \u00e9 \"x\" \/ é "#, count: 435_000)
        let large = #"{"blob":"\#(text)","k":123456789012345678901234567890,"w":[0.10,1e400]}"#
        _ = try client.submit(#"{"name":"l","id":"l","tasks":[{"id":"a","handler":"h","input":\#(large)}]}"#)
        let run = try waitLine(worker, containing: #""task_id":"a""#)
        #expect(has(run, #""input":\#(large)"#))
        // 10 MB through a debug build's parser takes seconds, more on a busy machine: a minute, not the usual 10 s.
        _ = try worker.result(
            "task.complete",
            #"{"lease":"\#(try lease(in: run))","result":\#(large)}"#,
            timeout: 60
        )
        let record = try rawAnswer(client, "workflow.wait", #"{"workflow_id":"l","timeout_s":10}"#, timeout: 60)
        #expect(has(record, #""result":{"a":\#(large)}"#))
    }

    /// A poll's answer, whose `result` is inside the task's result, and a poll's input are payloads too.
    @Test func pollInputsAndAnswersAreVerbatim() throws {
        let f = try Fixture()
        let worker = try f.worker()
        let client = try f.client()
        _ = try client.submit(#"{"name":"q","id":"q","tasks":[{"id":"a","handler":"h"}]}"#)
        let run = try waitLine(worker, containing: #""task_id":"a""#)
        _ = try worker.result(
            "task.await",
            #"{"lease":"\#(try lease(in: run))","future":{"poll":{"handler":"check","input":\#(Self.spaced),"interval_s":0.05}}}"#
        )
        let poll = try waitLine(worker, containing: #""poll":true"#)
        #expect(has(poll, #""input":\#(Self.tricky)"#))
        _ = try worker.result(
            "task.complete",
            #"{"lease":"\#(try lease(in: poll))","result":{"done":true,"result":\#(Self.spaced)}}"#
        )
        let record = try rawAnswer(client, "workflow.wait", #"{"workflow_id":"q","timeout_s":10}"#)
        #expect(has(record, #""result":{"a":\#(Self.tricky)}"#))
    }

    // MARK: - Strict documents

    @Test(arguments: [
        (#"{"name":"s","timeout":5,"tasks":[{"id":"a","handler":"h"}]}"#, "timeout"),
        (#"{"name":"s","schedule":"@hourly","tasks":[{"id":"a","handler":"h"}]}"#, "schedule"),
        (#"{"name":"s","tags":["x"],"tasks":[{"id":"a","handler":"h"}]}"#, "tags"),
        (#"{"name":"s","retry":{"max_attempts":2},"tasks":[{"id":"a","handler":"h"}]}"#, "retry"),
        (#"{"name":"s","start_at":"2030-01-01T00:00:00Z","tasks":[{"id":"a","handler":"h"}]}"#, "start_at"),
        (
            #"{"name":"s","tasks":[{"id":"a","handler":"h"},{"id":"b","handler":"h"},{"id":"c","handler":"h","timeout":5}]}"#,
            "tasks[2].timeout"
        ),
        (#"{"name":"s","tasks":[{"id":"a","handler":"h","retry":{"max_attempt":3}}]}"#, "tasks[0].retry.max_attempt"),
        (#"{"name":"s","tasks":[{"id":"a","handler":"h","limits":["x"]}]}"#, "tasks[0].limits"),
        (#"{"name":"s","metadata":["x"],"tasks":[{"id":"a","handler":"h"}]}"#, "metadata"),
        (#"{"name":"s","metadata":{"team":7},"tasks":[{"id":"a","handler":"h"}]}"#, "metadata.team"),
        (#"{"name":"s","metadata":{"":"x"},"tasks":[{"id":"a","handler":"h"}]}"#, "metadata."),
        (
            #"{"name":"s","metadata":{"\#(String(repeating: "k", count: 65))":"x"},"tasks":[{"id":"a","handler":"h"}]}"#,
            "metadata." + String(repeating: "k", count: 65)
        ),
        (
            #"{"name":"s","metadata":{"k":"\#(String(repeating: "v", count: 257))"},"tasks":[{"id":"a","handler":"h"}]}"#,
            "metadata.k"
        ),
        (
            #"{"name":"s","metadata":{\#((0..<33).map { #""k\#($0)":"v""# }.joined(separator: ","))},"tasks":[{"id":"a","handler":"h"}]}"#,
            "metadata"
        ),
    ])
    func anUnknownFieldOrBadMetadataIsRejectedWithItsPath(document: String, path: String) throws {
        let f = try Fixture()
        let client = try f.client()
        let response = try client.call("workflow.submit", document)
        #expect(response["error"]?["code"] == .int(-32602))
        #expect(response["error"]?["data"]?["path"] == .string(path))
        // Nothing was created, and the daemon still serves.
        #expect(try client.result("workflow.list", "{}")["workflows"]?.arrayValue?.isEmpty == true)
    }

    @Test func unknownParamsOfMethodsAreRejectedWithTheirPath() throws {
        let f = try Fixture()
        let client = try f.client()
        let worker = try f.worker()
        _ = try client.submit(#"{"name":"s","id":"s","tasks":[{"id":"a","handler":"h"}]}"#)
        let task = try worker.nextTask()
        let lease = task["lease"]?.stringValue ?? ""
        let cases: [(LineClient, String, String, String)] = [
            (client, "workflow.get", #"{"workflow_id":"s","verbose":true}"#, "verbose"),
            (client, "workflow.wait", #"{"workflow_id":"s","timeout":1}"#, "timeout"),
            (client, "workflow.list", #"{"status":"running"}"#, "status"),
            (client, "workflow.cancel", #"{"workflow_id":"s","force":true}"#, "force"),
            (client, "future.resolve", #"{"key":"k","value":1}"#, "value"),
            (worker, "task.complete", #"{"lease":"\#(lease)","results":1}"#, "results"),
            (worker, "task.heartbeat", #"{"lease":"\#(lease)","percent":5}"#, "percent"),
            (worker, "task.await", #"{"lease":"\#(lease)","future":{"key":"k","timeout":1}}"#, "future.timeout"),
        ]
        for (peer, method, params, path) in cases {
            let response = try peer.call(method, params)
            #expect(response["error"]?["code"] == .int(-32602), "\(method)")
            #expect(response["error"]?["data"]?["path"] == .string(path), "\(method)")
        }
        // None of them changed anything: the task is still running with its lease.
        #expect(try client.result("workflow.get", #"{"workflow_id":"s"}"#).task("a")?["state"] == .string("running"))
        #expect(try worker.complete(task)["result"] == .object([:]))
    }

    @Test func metadataShowsInRecordsAndListsAndSurvivesARestart() throws {
        let f = try Fixture()
        let client = try f.client()
        _ = try client.submit(
            #"{"name":"m","id":"m","metadata":{"team":"data","tier":"gold é"},"tasks":[{"id":"a","handler":"h"}]}"#
        )
        _ = try client.submit(#"{"name":"n","id":"n","tasks":[{"id":"a","handler":"h"}]}"#)
        func check() throws {
            let c = try f.client()
            let record = try rawAnswer(c, "workflow.get", #"{"workflow_id":"m"}"#)
            #expect(has(record, #""metadata":{"team":"data","tier":"gold é"}"#))
            #expect(has(try rawAnswer(c, "workflow.get", #"{"workflow_id":"n"}"#), #""metadata":{}"#))
            let list = try c.result("workflow.list", "{}")["workflows"]?.arrayValue ?? []
            #expect(
                list.first { $0["workflow_id"] == .string("m") }?["metadata"] == ["team": "data", "tier": "gold é"]
            )
            #expect(list.first { $0["workflow_id"] == .string("n") }?["metadata"] == .object([:]))
        }
        try check()
        try f.crashAndRestart()
        try check()
        try f.crashAndRestart(arguments: ["--checkpoint-events", "1"])
        _ = try f.client().submit(#"{"name":"x","id":"x","tasks":[{"id":"x","handler":"x","queue":"none"}]}"#)
        try f.client().pump(seconds: 0.3)
        try f.crashAndRestart()
        try check()
    }

    // MARK: - An id names one document

    @Test func anIdReusedWithTheSameDocumentIsIdempotentAndWithAnotherIsAnError() throws {
        let f = try Fixture()
        let client = try f.client()
        let document =
            #"{"name":"d","id":"d1","input":{"a":1,"b":[1.50,"x"]},"metadata":{"k":"v","l":"w"},"#
            + #""tasks":[{"id":"a","handler":"h","input":{"n":12345678901234567890}},{"id":"b","handler":"h","deps":["a"]}]}"#
        #expect(try client.result("workflow.submit", document)["created"] == .bool(true))
        // The same document as JSON values: other member order, spacing, escapes and spellings of numbers.
        let same =
            #"{ "tasks":[{"handler":"h","id":"a","input":{"n":1234567890123456789.0e1}},{"deps":["a"],"id":"b","handler":"h"}],"#
            + #""metadata":{"l":"w","k":"v"},"input":{"b":[15e-1,"\u0078"],"a":1.0},"id":"d1","name":"d"}"#
        #expect(try client.result("workflow.submit", same)["created"] == .bool(false))
        let different = [
            document.replacingOccurrences(of: #""a":1,"#, with: #""a":2,"#),
            document.replacingOccurrences(of: "12345678901234567890", with: "12345678901234567891"),
            document.replacingOccurrences(of: #""name":"d""#, with: #""name":"e""#),
            document.replacingOccurrences(of: #""l":"w""#, with: #""l":"x""#),
            document.replacingOccurrences(of: #","deps":["a"]"#, with: ""),
            document.replacingOccurrences(of: #""handler":"h","deps""#, with: #""handler":"h","timeout_s":5,"deps""#),
        ]
        func checkDifferent() throws {
            for other in different {
                let response = try f.client().call("workflow.submit", other)
                #expect(response["error"]?["code"] == .int(-32006), "\(other)")
                #expect(response["error"]?["data"]?["workflow_id"] == .string("d1"))
            }
        }
        try checkDifferent()
        try f.crashAndRestart()
        try checkDifferent()
        #expect(try f.client().result("workflow.submit", same)["created"] == .bool(false))
        // None of it changed the workflow.
        let record = try f.client().result("workflow.get", #"{"workflow_id":"d1"}"#)
        #expect(record["name"] == .string("d") && record["input"]?["a"] == .int(1))
    }

    // MARK: - Helpers

    /// Waits for a line received after the call that contains `marker`, and returns it.
    private func waitLine(
        _ peer: LineClient,
        containing marker: String,
        after first: Int = 0,
        timeout: Double = 10
    ) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var next = first
        while Date() < deadline {
            peer.poll()
            while next < peer.received.count {
                let line = String(decoding: peer.received[next], as: UTF8.self)
                if has(line, marker) { return line }
                next += 1
            }
            peer.pump(seconds: 0.01)
        }
        throw NotReceived(what: marker)
    }

    /// Sends a request and returns its response line as received.
    private func rawAnswer(
        _ peer: LineClient,
        _ method: String,
        _ params: String,
        timeout: Double = 10
    ) throws
        -> String
    {
        let first = peer.received.count
        let id = peer.send(method, params)
        return try waitLine(peer, containing: #"{"jsonrpc":"2.0","id":\#(id),"#, after: first, timeout: timeout)
    }

    /// Whether `needle` occurs in `line`, compared as UTF-8 bytes: `String.contains` compares characters, which for
    /// megabytes of text takes seconds.
    private func has(_ line: String, _ needle: String) -> Bool {
        let haystack = Array(line.utf8)
        let needle = Array(needle.utf8)
        guard let first = needle.first, needle.count <= haystack.count else { return needle.isEmpty }
        var i = 0
        while let found = haystack[i...].firstIndex(of: first), found + needle.count <= haystack.count {
            if haystack[found..<(found + needle.count)] == needle[...] { return true }
            i = found + 1
        }
        return false
    }

    /// The lease of a `task.run` line.
    private func lease(in line: String) throws -> String {
        guard let start = line.range(of: #""lease":""#)?.upperBound,
            let end = line[start...].firstIndex(of: "\"")
        else { throw NotReceived(what: "a lease in \(line)") }
        return String(line[start..<end])
    }
}

/// A line a test waited for did not come.
private struct NotReceived: Error {
    var what: String
}
