import FlowlineProtocol
import FlowlineTestSupport
import Foundation
import Testing

/// Issue #18: a peer cannot kill the daemon by closing (SIGPIPE), make it hold more than
/// `--max-pending-output-bytes` for it by not reading, nor stall the others; a peer that reads gets messages larger
/// than the bound; a peer without a good hello holds at most 64 KiB and is closed after `--hello-timeout`.
@Suite(.timeLimit(.minutes(1)))
struct OutputBoundTests {
    /// A workflow whose record is about `bytes` long (its input), on a queue no worker serves.
    private func submitBig(_ client: LineClient, id: String, bytes: Int, queue: String = "none") throws {
        let pad = String(repeating: "p", count: bytes)
        _ = try client.submit(
            #"{"name":"big","id":"\#(id)","input":{"pad":"\#(pad)"},"tasks":[{"id":"a","handler":"h","queue":"\#(queue)"}]}"#
        )
    }

    private func getLine(_ id: String, _ n: Int) -> String {
        #"{"jsonrpc":"2.0","id":\#(n),"method":"workflow.get","params":{"workflow_id":"\#(id)"}}"# + "\n"
    }

    /// The daemon answers `stats` and is still running.
    private func expectAlive(_ f: Fixture, _ comment: String) throws {
        #expect(f.daemon.isRunning, "the daemon died: \(comment)\n\(f.daemon.stderr)")
        let client = try f.client()
        #expect(try client.result("stats", timeout: 5)["workflows"] != nil, "no stats after \(comment)")
    }

    // MARK: - SIGPIPE

    @Test func aClientThatClosesRightAfterPipeliningABigGetDoesNotKillTheDaemon() throws {
        let f = try Fixture()
        try submitBig(try f.client(), id: "big", bytes: 2 << 20)
        for round in 0..<8 {
            let peer = try Peer(port: f.port)
            try peer.send((0..<8).map { getLine("big", $0) }.joined())
            // Unread bytes in its receive buffer: the close resets the connection, and the daemon's next write to
            // it fails with EPIPE.
            peer.close()
            if round % 3 == 0 { usleep(20_000) }
        }
        usleep(200_000)
        try expectAlive(f, "clients closed while 2 MB answers went to them")
    }

    @Test func aWorkerThatClosesRightAfterHelloWhileABigTaskWaitsDoesNotKillTheDaemon() throws {
        let f = try Fixture()
        let client = try f.client()
        let retry = #""retry":{"max_attempts":20,"backoff_s":0}"#
        let pad = String(repeating: "p", count: 2 << 20)
        _ = try client.submit(
            #"{"name":"big","id":"big","tasks":[{"id":"a","handler":"h","queue":"q",\#(retry),"input":{"pad":"\#(pad)"}}]}"#
        )
        for _ in 0..<10 {
            let peer = try Peer(port: f.port)
            try peer.send(
                #"{"jsonrpc":"2.0","id":1,"method":"hello","params":{"role":"worker","name":"w","queues":["q"],"concurrency":1,"protocol":1}}"#
                    + "\n"
            )
            peer.close()
            usleep(10_000)
        }
        usleep(200_000)
        try expectAlive(f, "workers closed while a 2 MB task.run went to them")
    }

    // MARK: - Bounded output

    /// Samples `stats` round trips on a client that reads, while `attack` runs on another thread.
    private func worstStatsLatency(
        _ f: Fixture,
        seconds: Double,
        during attack: @escaping @Sendable () -> Void
    )
        throws -> (worst: Duration, samples: Int)
    {
        let client = try f.client()
        let done = Atomic(false)
        let thread = Thread {
            attack()
            done.set(true)
        }
        thread.start()
        var worst = Duration.zero
        var samples = 0
        let end = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while ContinuousClock.now < end {
            let started = ContinuousClock.now
            _ = try client.result("stats", timeout: 30)
            worst = max(worst, ContinuousClock.now - started)
            samples += 1
            usleep(5_000)
        }
        while !done.get() { usleep(5_000) }
        return (worst, samples)
    }

    @Test func peersThatPipelineBigGetsAndNeverReadStayBounded() throws {
        let bound = 2 << 20
        let f = try Fixture(arguments: ["--max-pending-output-bytes", "\(bound)", "--output-stall-timeout", "2s"])
        try submitBig(try f.client(), id: "big", bytes: 512 << 10)
        let baseline = f.daemon.peakResidentBytes ?? 0
        let port = f.port
        let peers = try (0..<8).map { _ in try Peer(port: port) }
        let lines = (0..<2000).map { getLine("big", $0) }.joined()
        // 8 × 2,000 answers of 0.5 MB: 8 GB if the daemon encoded them all.
        let (worst, samples) = try worstStatsLatency(f, seconds: 3) {
            DispatchQueue.concurrentPerform(iterations: peers.count) { i in try? peers[i].send(lines, nonBlocking: true)
            }
        }
        let peak = f.daemon.peakResidentBytes ?? 0
        print(
            "8 non-reading pipeliners of workflow.get (0.5 MB), bound \(bound >> 20) MiB: daemon VmHWM"
                + " \(baseline >> 20) → \(peak >> 20) MiB; worst stats latency \(worst) over \(samples) calls"
        )
        #expect(peak - baseline < 8 * (bound + (1 << 20)) + (64 << 20), "VmHWM \(baseline) → \(peak)")
        #expect(worst < .milliseconds(500))
        // They read nothing for longer than --output-stall-timeout: closed, their memory given back.
        let deadline = Date().addingTimeInterval(8)
        while Date() < deadline && !f.daemon.stderr.contains("closing a peer that does not read") { usleep(50_000) }
        #expect(f.daemon.stderr.contains("closing a peer that does not read"))
        try expectAlive(f, "non-reading pipeliners")
        _ = peers
    }

    @Test func aWorkerThatReadsReceivesATaskLargerThanTheBound() throws {
        let bound = 1 << 20
        let f = try Fixture(arguments: ["--max-pending-output-bytes", "\(bound)"])
        let client = try f.client()
        let pad = String(repeating: "p", count: 3 << 20)
        _ = try client.submit(
            #"{"name":"big","id":"big","tasks":[{"id":"a","handler":"h","input":{"pad":"\#(pad)"}},{"id":"b","handler":"h","deps":["a"]}]}"#
        )
        let worker = try f.worker()
        let task = try worker.nextTask()
        #expect(task["input"]?["pad"]?.stringValue?.count == 3 << 20)
        try worker.complete(task, result: #""\#(pad)""#)
        // b's task.run carries a's 3 MB result.
        let next = try worker.nextTask()
        #expect(next["deps"]?["a"]?.stringValue?.count == 3 << 20)
        try worker.complete(next)
        #expect(try client.wait("big")["state"] == .string("completed"))
        #expect(!f.daemon.stderr.contains("closing a peer"))
    }

    @Test func pipelinedWaitsAnsweredAtOnceStayBoundedAndAReaderGetsThemAll() throws {
        let bound = 2 << 20
        // The reader reads only while the test waits on it: it must not count as stalled meanwhile.
        let f = try Fixture(arguments: ["--max-pending-output-bytes", "\(bound)", "--output-stall-timeout", "20s"])
        let client = try f.client()
        try submitBig(client, id: "big", bytes: 512 << 10)
        let deaf = try Peer(port: f.port)
        try deaf.send(
            (0..<2000).map {
                #"{"jsonrpc":"2.0","id":\#($0),"method":"workflow.wait","params":{"workflow_id":"big","timeout_s":60}}"#
                    + "\n"
            }.joined()
        )
        let reader = try f.client()
        let ids = (0..<20).map { _ in reader.send("workflow.wait", #"{"workflow_id":"big","timeout_s":60}"#) }
        // Registered: stats goes after the waits on the reader's connection.
        _ = try reader.result("stats")
        _ = try client.result("stats")
        let baseline = f.daemon.peakResidentBytes ?? 0
        let port = f.port
        let (worst, _) = try worstStatsLatency(f, seconds: 1.5) {
            // 2,020 answers of 0.5 MB (1 GB) are due at once.
            let canceller = try? LineClient(port: port)
            _ = try? canceller?.result("workflow.cancel", #"{"workflow_id":"big"}"#)
        }
        for id in ids { #expect(try reader.response(to: id, timeout: 20)["result"]?["state"] == .string("cancelled")) }
        let peak = f.daemon.peakResidentBytes ?? 0
        print(
            "2,000 pipelined waits (0.5 MB answers) of a non-reader + 20 of a reader, cancelled: daemon VmHWM"
                + " \(baseline >> 20) → \(peak >> 20) MiB; worst stats latency \(worst)"
        )
        #expect(peak - baseline < 256 << 20, "VmHWM \(baseline) → \(peak)")
        #expect(worst < .milliseconds(500))
        try expectAlive(f, "pipelined waits")
        _ = deaf
    }

    // MARK: - Before hello

    private func tokenFixture(_ extra: [String] = []) throws -> Fixture {
        let tokenDirectory = try TemporaryDirectory()
        let tokenFile = tokenDirectory.path + "/token"
        try "s3cret".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        return try Fixture(arguments: ["--token-file", tokenFile] + extra)
    }

    @Test func aPeerWithoutHelloMayHoldOnly64KiBOfLine() throws {
        let f = try tokenFixture(["--hello-timeout", "60s"])
        let peer = try Peer(port: f.port)
        // No newline: a line the daemon would buffer to --max-line-bytes (16 MiB) for anybody.
        try peer.send(String(repeating: "x", count: (64 << 10) + 1))
        let answer = try #require(try peer.readLine(timeout: 5))
        let json = try JSONParser.parse(Array(answer.utf8))
        #expect(json["error"]?["code"]?.int64Value == -32004, "\(answer)")
        #expect(json["id"] == .null)
        // 40 such peers each hold no more than 64 KiB: each line is refused once it passes that.
        let baseline = f.daemon.peakResidentBytes ?? 0
        let hogs = try (0..<40).map { _ in try Peer(port: f.port) }
        for hog in hogs { try hog.send(String(repeating: "y", count: 128 << 10)) }
        for hog in hogs { #expect(try hog.readLine(timeout: 5)?.contains("-32004") == true) }
        let peak = f.daemon.peakResidentBytes ?? 0
        print("40 peers without hello sending 128 KiB of one line: daemon VmHWM \(baseline >> 20) → \(peak >> 20) MiB")
        #expect(peak - baseline < 16 << 20)
        // After a good hello, long lines are allowed again.
        let good = try Peer(port: f.port)
        try good.send(
            #"{"jsonrpc":"2.0","id":1,"method":"hello","params":{"role":"client","name":"c","protocol":1,"token":"s3cret"}}"#
                + "\n"
        )
        #expect(try good.readLine(timeout: 5)?.contains("\"result\"") == true)
        let pad = String(repeating: "p", count: 256 << 10)
        try good.send(
            #"{"jsonrpc":"2.0","id":2,"method":"workflow.submit","params":{"name":"n","id":"long","input":{"pad":"\#(pad)"},"tasks":[{"id":"a","handler":"h"}]}}"#
                + "\n"
        )
        #expect(try good.readLine(timeout: 5)?.contains("\"workflow_id\"") == true)
    }

    @Test func aPeerThatSaysNoGoodHelloIsClosedAfterTheHelloTimeout() throws {
        let f = try tokenFixture(["--hello-timeout", "0.5s"])
        let silent = try Peer(port: f.port)
        let good = try Peer(port: f.port)
        try good.send(
            #"{"jsonrpc":"2.0","id":1,"method":"hello","params":{"role":"client","name":"c","protocol":1,"token":"s3cret"}}"#
                + "\n"
        )
        #expect(try good.readLine(timeout: 5)?.contains("\"result\"") == true)
        let started = ContinuousClock.now
        #expect(try silent.readLine(timeout: 5) == nil, "the silent peer got a line")
        let closedAfter = ContinuousClock.now - started
        #expect(closedAfter < .seconds(3), "closed after \(closedAfter)")
        // The peer that said hello stays.
        try good.send(#"{"jsonrpc":"2.0","id":2,"method":"stats","params":{}}"# + "\n")
        #expect(try good.readLine(timeout: 5)?.contains("\"workflows\"") == true)
    }
}

/// A flag shared with a thread.
private final class Atomic: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Bool
    init(_ value: Bool) { self.value = value }
    func get() -> Bool { lock.withLock { value } }
    func set(_ new: Bool) { lock.withLock { value = new } }
}

/// A blocking TCP peer that misbehaves on purpose: it may never read, close with unread data, or read lines
/// with a deadline.
private final class Peer: @unchecked Sendable {
    private var fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int) throws {
        fd = try RawSocket.connectLoopback(port: port)
    }

    deinit { close() }

    func close() {
        guard fd >= 0 else { return }
        Glibc.close(fd)
        fd = -1
    }

    /// Sends all of `text`; `nonBlocking` gives up (quietly) when the daemon stops reading for a second.
    func send(_ text: String, nonBlocking: Bool = false) throws {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            if nonBlocking {
                var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                guard poll(&pfd, 1, 1000) > 0 else { return }
            }
            let n = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | (nonBlocking ? MSG_DONTWAIT : 0)))
            }
            if n < 0 && (errno == EAGAIN || errno == EINTR) { continue }
            guard n > 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            offset += n
        }
    }

    /// The next line, or nil when the daemon closed the connection; throws after `timeout` seconds.
    func readLine(timeout: Double) throws -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let newline = buffer.firstIndex(of: 10) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            let left = Int32(max(0, deadline.timeIntervalSinceNow) * 1000)
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, left) > 0 else { throw POSIXError(.ETIMEDOUT) }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            buffer += chunk[..<n]
        }
    }
}
