import FlowlineProtocol
import FlowlineTestSupport
import Foundation
import Testing

/// `flowlined --http` (SPEC §10): metrics checked by Prometheus's own Python parser, health and readiness, the
/// API against the RPC records, the token rules, and the server's handling of bad and slow peers.
@Suite(.timeLimit(.minutes(2)))
struct HTTPTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// One parsed sample.
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    /// Scrapes `/metrics` and parses it with `tools/check-metrics` (prometheus_client's parser), which fails on
    /// text Prometheus would not take.
    static func scrape(_ port: Int, headers: [(String, String)] = []) throws -> [Sample] {
        let response = try HTTPProbe.get(port: port, "/metrics", headers: headers)
        try #require(response.status == 200, "\(response)")
        #expect(response.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
        let checked = try ToolProcess.runProgram(
            "/usr/bin/env",
            ["python3", repositoryRoot + "/tools/check-metrics"],
            stdin: response.text
        )
        try #require(checked.status == 0, "\(checked)\n--- metrics\n\(response.text)")
        return checked.stdout.split(separator: "\n").compactMap { line in
            guard case .object(let o)? = try? JSONParser.parse(Array(line.utf8)),
                case .string(let name)? = o.first(where: { $0.key == "name" })?.value,
                case .object(let labels)? = o.first(where: { $0.key == "labels" })?.value
            else { return nil }
            let value: Double
            switch o.first(where: { $0.key == "value" })?.value {
            case .int(let i)?: value = Double(i)
            case .double(let d)?: value = d
            default: return nil
            }
            var pairs: [String: String] = [:]
            for (k, v) in labels { if case .string(let s) = v { pairs[k] = s } }
            return Sample(name: name, labels: pairs, value: value)
        }
    }

    static func value(_ samples: [Sample], _ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { sample in sample.name == name && labels.allSatisfy { k, v in sample.labels[k] == v } }?.value
    }

    /// A worker for one queue whose name needs JSON escaping.
    static func worker(port: Int, name: String, queueJSON: String) throws -> LineClient {
        let worker = try LineClient(port: port)
        _ = try worker.result(
            "hello",
            #"{"role":"worker","name":"\#(name)","queues":[\#(queueJSON)],"concurrency":1,"protocol":1}"#
        )
        return worker
    }

    @Test func metricsCountAKnownWorkloadAndParse() throws {
        let f = try Fixture(arguments: ["--http", "127.0.0.1:0"])
        let http = try #require(f.daemon.httpPort)
        // A queue whose name holds each character the format escapes.
        let queue = "we\"ird\\q\nx"
        let queueJSON = #""we\"ird\\q\nx""#
        let client = try f.client()
        for i in 1...5 {
            _ = try client.submit(
                #"{"name":"m","id":"m\#(i)","tasks":[{"id":"t","handler":"h","queue":\#(queueJSON),"retry":{"max_attempts":3,"backoff_s":0}}]}"#
            )
        }
        let worker = try Self.worker(port: f.port, name: "w1", queueJSON: queueJSON)
        try worker.complete(try worker.nextTask())
        try worker.complete(try worker.nextTask())
        try worker.fail(try worker.nextTask(), retryable: false)
        let held = try worker.nextTask()  // the fourth runs; the fifth waits
        _ = held
        var samples = try Self.scrape(http)
        let q = ["queue": queue]
        #expect(Self.value(samples, "flowline_tasks_dispatched_total", q) == 4)
        #expect(Self.value(samples, "flowline_tasks_finished_total", q.merging(["outcome": "completed"]) { $1 }) == 2)
        #expect(Self.value(samples, "flowline_tasks_finished_total", q.merging(["outcome": "failed"]) { $1 }) == 1)
        #expect(Self.value(samples, "flowline_queue_ready", q) == 1)
        #expect((Self.value(samples, "flowline_queue_oldest_ready_seconds", q) ?? -1) >= 0)
        #expect(Self.value(samples, "flowline_task_wait_seconds_count", q) == 4)
        #expect(Self.value(samples, "flowline_task_run_seconds_count", q) == 3)
        #expect(Self.value(samples, "flowline_task_run_seconds_bucket", q.merging(["le": "+Inf"]) { $1 }) == 3)
        #expect(Self.value(samples, "flowline_tasks", ["state": "running"]) == 1)
        #expect(Self.value(samples, "flowline_tasks", ["state": "ready"]) == 1)
        #expect(Self.value(samples, "flowline_tasks", ["state": "completed"]) == 2)
        #expect(Self.value(samples, "flowline_workflows", ["state": "completed"]) == 2)
        #expect(Self.value(samples, "flowline_workflows", ["state": "failed"]) == 1)
        #expect(Self.value(samples, "flowline_workflows", ["state": "running"]) == 2)
        #expect((Self.value(samples, "flowline_journal_commit_seconds_count") ?? 0) >= 5)
        #expect((Self.value(samples, "flowline_journal_bytes") ?? 0) > 0)
        #expect(Self.value(samples, "flowline_workers") == 1)
        #expect(Self.value(samples, "flowline_connections") == 2)
        #expect(Self.value(samples, "flowline_futures_kept") == 0)
        for name in [
            "process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes",
            "process_open_fds", "process_max_fds", "process_start_time_seconds",
        ] {
            #expect((Self.value(samples, name) ?? 0) > 0, "\(name)")
        }
        let started = Self.value(samples, "process_start_time_seconds") ?? 0
        #expect(abs(started - Date().timeIntervalSince1970) < 120)

        // The worker goes: its attempt ends worker_lost and is tried again by the next worker; cancelling the
        // workflow of the task that one holds ends that attempt cancelled.
        worker.close()
        let second = try Self.worker(port: f.port, name: "w2", queueJSON: queueJSON)
        let task = try second.nextTask()
        let workflow = try #require(task["workflow_id"]?.stringValue)
        _ = try client.result("workflow.cancel", #"{"workflow_id":"\#(workflow)"}"#)
        _ = try second.nextMessage(method: "task.cancel")
        samples = try Self.scrape(http)
        #expect(Self.value(samples, "flowline_tasks_finished_total", q.merging(["outcome": "worker_lost"]) { $1 }) == 1)
        #expect(Self.value(samples, "flowline_tasks_finished_total", q.merging(["outcome": "cancelled"]) { $1 }) == 1)
        // The fifth workflow's task went to the second worker once the cancel freed its slot.
        #expect(Self.value(samples, "flowline_tasks_dispatched_total", q) == 6)
        #expect(Self.value(samples, "flowline_workers") == 1)
    }

    /// Scrapes between completions while work runs: the counters only go up and end where the work did.
    @Test func scrapesUnderLoadSeeCountersMove() throws {
        let f = try Fixture(arguments: ["--http", "127.0.0.1:0"])
        let http = try #require(f.daemon.httpPort)
        let client = try f.client()
        let worker = try f.worker(concurrency: 1)
        let total = 60
        for i in 0..<total {
            _ = client.send("workflow.submit", #"{"name":"l","id":"l\#(i)","tasks":[{"id":"t","handler":"h"}]}"#)
        }
        var last = -1.0
        for i in 0..<total {
            try worker.complete(try worker.nextTask())
            if i % 10 == 9 {
                let samples = try Self.scrape(http)
                let done =
                    Self.value(samples, "flowline_tasks_finished_total", ["queue": "default", "outcome": "completed"])
                    ?? -1
                #expect(done >= last && done >= Double(i))
                last = done
            }
        }
        let samples = try Self.scrape(http)
        #expect(Self.value(samples, "flowline_tasks_dispatched_total", ["queue": "default"]) == Double(total))
        #expect(Self.value(samples, "flowline_workflows", ["state": "completed"]) == Double(total))
        #expect(Self.value(samples, "flowline_queue_ready", ["queue": "default"]) == 0)
    }

    @Test func healthAndReadiness() throws {
        let f = try Fixture(arguments: ["--http", "127.0.0.1:0"])
        let http = try #require(f.daemon.httpPort)
        let health = try HTTPProbe.get(port: http, "/healthz")
        #expect(health.status == 200 && health.text == "ok\n")
        let ready = try HTTPProbe.get(port: http, "/readyz")
        #expect(ready.status == 200 && ready.text == "ready\n")
        let head = try HTTPProbe(port: http).request("HEAD", "/healthz")
        #expect(head.status == 200 && head.body.isEmpty && head.header("Content-Length") == "3")
    }

    /// A real full disk (a small tmpfs; needs root): /readyz turns 503 with the reason, /healthz stays 200, and
    /// /readyz is 200 again once space is freed and writes succeed.
    @Test func readinessFollowsAFullDisk() throws {
        guard getuid() == 0 else {
            print("skipped readinessFollowsAFullDisk: mounting a tmpfs needs root")
            return
        }
        let tmpfs = try TmpfsMount()
        defer { tmpfs.unmount() }
        let mount = tmpfs.path
        let daemon = try DaemonProcess(data: mount + "/data", sync: "none", extraArguments: ["--http", "127.0.0.1:0"])
        defer { daemon.stop() }
        let http = try #require(daemon.httpPort)
        let client = try LineClient(port: daemon.port)
        let filled = try ToolProcess.runProgram("/bin/dd", ["if=/dev/zero", "of=\(mount)/filler", "bs=1M"])
        #expect(filled.stderr.contains("No space left"), "\(filled)")
        let blob = String(repeating: "x", count: 200_000)
        var refused = false
        for i in 0..<400 where !refused {
            let response = try client.call(
                "workflow.submit",
                #"{"name":"big","id":"big-\#(i)","input":{"blob":"\#(blob)"},"tasks":[{"id":"a","handler":"h"}]}"#
            )
            refused = response["error"]?["code"] == .int(-32005)
        }
        try #require(refused, "the disk should fill within 400 submits")
        let notReady = try HTTPProbe.get(port: http, "/readyz")
        #expect(notReady.status == 503, "\(notReady)")
        #expect(notReady.text.hasPrefix("journal full") && notReady.text.split(separator: "\n").count == 1)
        #expect(try HTTPProbe.get(port: http, "/healthz").status == 200)
        let metrics = try Self.scrape(http)
        #expect(Self.value(metrics, "flowline_journal_full") == 1)
        try FileManager.default.removeItem(atPath: mount + "/filler")
        let readyAgain = try HTTPProbe.get(port: http, "/readyz")
        #expect(readyAgain.status == 200, "\(readyAgain)")
        #expect(try client.submit(#"{"name":"small","id":"small","tasks":[{"id":"a","handler":"h"}]}"#) == "small")
    }

    /// The API answers the same records as the RPC methods.
    @Test func apiEqualsTheRPCRecords() throws {
        let f = try Fixture(arguments: ["--http", "127.0.0.1:0"])
        let http = try #require(f.daemon.httpPort)
        let client = try f.client()
        for i in 0..<5 {
            _ = try client.submit(
                #"{"name":"\#(i % 2 == 0 ? "even" : "odd")","id":"w/\#(i)","metadata":{"k":"v"},"tasks":[{"id":"a","handler":"h"},{"id":"b","handler":"h","deps":["a"]}]}"#
            )
        }
        let worker = try f.worker()
        try worker.complete(try worker.nextTask(), result: #"{"x":1}"#)
        func api(_ path: String) throws -> JSON {
            let response = try HTTPProbe.get(port: http, path)
            try #require(response.status == 200, "\(path): \(response)")
            #expect(response.header("Content-Type") == "application/json")
            return try JSONParser.parse(response.body)
        }
        #expect(try api("/api/workflows/w%2F0") == (try client.result("workflow.get", #"{"workflow_id":"w/0"}"#)))
        #expect(
            try api("/api/workflows/w%2F0/history")
                == (try client.result("workflow.history", #"{"workflow_id":"w/0"}"#))
        )
        #expect(
            try api("/api/workflows?name=even&limit=2")
                == (try client.result("workflow.list", #"{"name":"even","limit":2}"#))
        )
        #expect(
            try api("/api/workflows?state=running&after=w%2F3")
                == (try client.result("workflow.list", #"{"state":"running","after":"w/3"}"#))
        )
        #expect(try api("/api/workers") == (try client.result("workers.list")))
        // Equal but for the uptime, which moves between the two reads.
        func withoutUptime(_ j: JSON) -> JSON {
            guard case .object(let o) = j else { return j }
            return .object(JSONObject(o.filter { $0.key != "uptime_s" }.map { ($0.key, $0.value) }))
        }
        #expect(withoutUptime(try api("/api/stats")) == withoutUptime(try client.result("stats")))
        #expect(try api("/api/schedules") == (try JSONParser.parse(Array(#"{"schedules":[]}"#.utf8))))
        let queues = try api("/api/queues")["queues"]?.arrayValue ?? []
        #expect(queues.first?["queue"] == .string("default"))
        // Three first tasks and the second task of the workflow whose first completed; one runs.
        #expect(queues.first?["ready"] == .int(4))
        #expect(queues.first?["running"] == .int(1))
        #expect(queues.first?["dispatched_total"] == .int(2))
        // Unknown ids and paths are 404; a bad query is 400 with the reason.
        #expect(try HTTPProbe.get(port: http, "/api/workflows/nope").status == 404)
        #expect(try HTTPProbe.get(port: http, "/api/workflows/nope/history").status == 404)
        #expect(try HTTPProbe.get(port: http, "/api/nothing").status == 404)
        let bad = try HTTPProbe.get(port: http, "/api/workflows?state=sleepy")
        #expect(bad.status == 400 && bad.text.contains("state"), "\(bad)")
        #expect(try HTTPProbe.get(port: http, "/api/workflows?limit=0").status == 400)
        #expect(try HTTPProbe.get(port: http, "/api/workflows?colour=red").status == 400)
        #expect(try HTTPProbe(port: http).request("DELETE", "/api/workflows/w%2F0").status == 405)
    }

    @Test func aTokenGuardsEverythingButHealth() throws {
        let directory = try TemporaryDirectory()
        let tokenFile = directory.path + "/token"
        try "s3cret-token\nclient c1ient\nworker w0rker q1\n".write(
            toFile: tokenFile,
            atomically: true,
            encoding: .utf8
        )
        let f = try Fixture(arguments: ["--http", "127.0.0.1:0", "--token-file", tokenFile])
        let http = try #require(f.daemon.httpPort)
        #expect(try HTTPProbe.get(port: http, "/healthz").status == 200)
        #expect(try HTTPProbe.get(port: http, "/readyz").status == 200)
        for path in ["/metrics", "/api/stats", "/api/workflows"] {
            let refused = try HTTPProbe.get(port: http, path)
            #expect(refused.status == 401 && refused.header("WWW-Authenticate") == "Bearer", "\(path)")
            #expect(try HTTPProbe.get(port: http, path, headers: [("Authorization", "Bearer wrong")]).status == 401)
            #expect(
                try HTTPProbe.get(port: http, path, headers: [("Authorization", "Bearer s3cret-token")]).status == 200
            )
        }
        // A client token reads /api too; a worker token reads /metrics only (SPEC §12).
        #expect(
            try HTTPProbe.get(port: http, "/api/stats", headers: [("Authorization", "Bearer c1ient")]).status == 200
        )
        #expect(try HTTPProbe.get(port: http, "/metrics", headers: [("Authorization", "Bearer w0rker")]).status == 200)
        #expect(
            try HTTPProbe.get(port: http, "/api/stats", headers: [("Authorization", "Bearer w0rker")]).status == 403
        )
        #expect(try HTTPProbe.get(port: http, "/", headers: [("Authorization", "Bearer w0rker")]).status == 403)
        // A browser is sent to the login page, which sets the cookie only for the right token.
        let page = try HTTPProbe.get(port: http, "/")
        #expect(page.status == 303 && page.header("Location") == "/login")
        let login = try HTTPProbe.get(port: http, "/login")
        #expect(login.status == 200 && login.text.contains("<form"))
        let form = [("Content-Type", "application/x-www-form-urlencoded")]
        let wrong = try HTTPProbe(port: http).request("POST", "/login", headers: form, body: Array("token=nope".utf8))
        #expect(wrong.status == 401 && wrong.header("Set-Cookie") == nil)
        let worker = try HTTPProbe(port: http).request(
            "POST",
            "/login",
            headers: form,
            body: Array("token=w0rker".utf8)
        )
        #expect(worker.status == 403 && worker.header("Set-Cookie") == nil)
        let right = try HTTPProbe(port: http).request(
            "POST",
            "/login",
            headers: form,
            body: Array("token=s3cret-token".utf8)
        )
        #expect(right.status == 303 && right.header("Location") == "/")
        let cookie = try #require(right.header("Set-Cookie"))
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"))
        let pair = String(cookie.split(separator: ";")[0])
        #expect(try HTTPProbe.get(port: http, "/", headers: [("Cookie", pair)]).status == 200)
        #expect(try HTTPProbe.get(port: http, "/api/stats", headers: [("Cookie", pair)]).status == 200)
        #expect(
            try HTTPProbe.get(port: http, "/api/stats", headers: [("Cookie", "flowline_token=s3cret")]).status == 401
        )
    }

    /// Keep-alive, bad requests, a slow request, and the RPC side unaffected.
    @Test func theServerCopesWithBadAndSlowPeers() throws {
        let f = try Fixture(arguments: ["--http", "127.0.0.1:0", "--http-request-timeout", "1s"])
        let http = try #require(f.daemon.httpPort)
        let probe = try HTTPProbe(port: http)
        #expect(try probe.request("GET", "/healthz").status == 200)
        #expect(try probe.request("GET", "/api/stats").status == 200)
        let bad = try HTTPProbe(port: http)
        try bad.send(Array("GARBAGE\r\n\r\n".utf8))
        #expect(try bad.readResponse().status == 400)
        #expect(bad.isClosedByPeer())
        let huge = try HTTPProbe(port: http)
        try huge.send(Array(("GET / HTTP/1.1\r\nHost: x\r\nX: " + String(repeating: "a", count: 40_000)).utf8))
        #expect(try huge.readResponse().status == 431)
        // Half a request, then nothing: answered 408 and closed once the request timeout passes.
        let slow = try HTTPProbe(port: http)
        try slow.send(Array("GET /healthz HTTP/1.1\r\nHost: x\r\n".utf8))
        #expect(try slow.readResponse().status == 408)
        #expect(slow.isClosedByPeer())
        let old = try HTTPProbe(port: http)
        try old.send(Array("GET /healthz HTTP/1.0\r\n\r\n".utf8))
        #expect(try old.readResponse().status == 200)
        #expect(old.isClosedByPeer())
        // The JSON-RPC side still answers.
        #expect(try f.client().result("stats")["workflows"] != nil)
    }
}
