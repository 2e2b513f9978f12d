import FlowlineProtocol
import FlowlineTestSupport
import FlowlineUV
import Foundation
import Testing

/// Timers wait on a monotonic clock (SPEC §7): a wall clock set forward or back neither fires them early nor holds
/// them back, also across a restart; and a stalled loop reads what arrived before its timers give up on anyone.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct TimerClockTests {
    /// A daemon whose wall clock the test moves: it adds the milliseconds in `offsetFile` to the wall clock.
    final class ShiftedDaemon {
        let directory: TemporaryDirectory
        let offsetFile: String
        var daemon: DaemonProcess

        init() throws {
            directory = try TemporaryDirectory()
            offsetFile = directory.path + "/wall-clock-offset"
            try "0".write(toFile: offsetFile, atomically: true, encoding: .utf8)
            daemon = try Self.start(directory.path + "/data", offsetFile: offsetFile)
        }

        static func start(_ data: String, offsetFile: String) throws -> DaemonProcess {
            try DaemonProcess(data: data, environment: ["FLOWLINE_TEST_WALL_CLOCK_OFFSET_FILE": offsetFile])
        }

        /// Sets the daemon's wall clock `hours` away from the machine's.
        func shift(hours: Int64) throws {
            try String(hours * 3_600_000).write(toFile: offsetFile, atomically: true, encoding: .utf8)
        }

        /// Stops the daemon (SIGTERM) and starts another on its data directory.
        func restart() throws {
            #expect(daemon.stop() == 0)
            daemon = try Self.start(directory.path + "/data", offsetFile: offsetFile)
        }

        func client() throws -> LineClient { try LineClient(port: daemon.port) }
    }

    /// A workflow no worker takes, so that only its timeout can end it.
    static func unserved(_ id: String, timeout: Double) -> String {
        #"{"name":"idle","id":"\#(id)","timeout_s":\#(timeout),"tasks":[{"id":"a","handler":"h","queue":"nobody"}]}"#
    }

    @Test func wallClockSetForwardFiresNoTimerEarly() throws {
        let d = try ShiftedDaemon()
        let client = try d.client()
        _ = try client.submit(Self.unserved("forward", timeout: 600))
        let started = Date()
        let wait = client.send("workflow.wait", #"{"workflow_id":"forward","timeout_s":1}"#)
        #expect(try client.result("stats")["workflows"]?["running"] == .int(1))
        try d.shift(hours: 1)
        // A turn after the jump, as a heartbeat or any request would make.
        _ = try client.result("stats")
        let record = try client.response(to: wait, timeout: 5)["result"]
        let waited = Date().timeIntervalSince(started)
        #expect(waited >= 0.9, "the 1 s wait answered after \(waited) s")
        #expect(record?["state"] == .string("running"), "\(String(describing: record))")
        let now = try client.result("workflow.get", #"{"workflow_id":"forward"}"#)
        #expect(now["state"] == .string("running"), "the 600 s timeout fired an hour early: \(now)")
    }

    @Test func wallClockSetBackHoldsNoTimerBack() throws {
        let d = try ShiftedDaemon()
        let client = try d.client()
        _ = try client.submit(Self.unserved("back", timeout: 1))
        let started = Date()
        try d.shift(hours: -1)
        let record = try client.wait("back", timeout: 4)
        let waited = Date().timeIntervalSince(started)
        #expect(record["state"] == .string("timed_out"), "\(record)")
        #expect(waited < 3, "the 1 s timeout took \(waited) s")
    }

    /// Across a restart the wall clock is the only shared clock: a timer's deadline is persisted in wall time, and
    /// the wait after the restart is capped at the timer's own length.
    @Test func wallClockSetBackAcrossRestartHoldsTimerBackAtMostItsLength() throws {
        let d = try ShiftedDaemon()
        _ = try d.client().submit(Self.unserved("restart", timeout: 1.5))
        try d.shift(hours: -1)
        try d.restart()
        let started = Date()
        let record = try d.client().wait("restart", timeout: 5)
        let waited = Date().timeIntervalSince(started)
        #expect(record["state"] == .string("timed_out"), "\(record)")
        #expect(waited < 3, "the 1.5 s timeout took \(waited) s after the restart")
    }

    /// The daemon is stopped (SIGSTOP stands for any stall) for three heartbeat intervals while the worker keeps
    /// sending heartbeats: they wait in the socket, and count before the heartbeat timer gives up on the lease.
    @Test func stalledDaemonCountsTheHeartbeatsThatArrivedMeanwhile() throws {
        let f = try Fixture()
        let client = try f.client()
        let worker = try f.worker()
        _ = try client.submit(
            #"{"name":"beat","id":"beat","tasks":[{"id":"a","handler":"h","heartbeat_s":0.5}]}"#
        )
        let task = try worker.nextTask()
        let lease = task["lease"]?.stringValue ?? ""
        func beat(for seconds: Double, pumping: Bool) {
            let end = Date().addingTimeInterval(seconds)
            while Date() < end {
                worker.send("task.heartbeat", #"{"lease":"\#(lease)"}"#, notification: true)
                if pumping { worker.pump(seconds: 0.1) } else { usleep(100_000) }
            }
        }
        beat(for: 0.3, pumping: true)
        // Stopped while it waits for input: its poll then returns EINTR on SIGCONT, and libuv runs the due timers
        // before it polls again. A heartbeat sent at once could instead end that poll before the stop.
        worker.pump(seconds: 0.15)
        kill(f.daemon.pid, SIGSTOP)
        usleep(100_000)
        beat(for: 1.5, pumping: false)
        kill(f.daemon.pid, SIGCONT)
        beat(for: 0.3, pumping: true)
        let completed = try worker.complete(task, result: "1")
        #expect(completed["result"] != nil, "the lease was lost: \(completed)")
        let record = try client.wait("beat", timeout: 5)
        #expect(record["state"] == .string("completed"), "\(record)")
        #expect(record.task("a")?["attempts"] == .int(1), "\(record)")
    }

    /// A cancel frees every worker's slot, and each worker's queues are looked at again: with many workers of many
    /// queues that look was quadratic (1,000 workers x 100 queues stalled the daemon for 33 s).
    @Test func cancelWithManyWorkersOfManyQueuesAnswersFast() throws {
        _ = FileLimit.raiseToHardLimit()
        let count = 300
        let f = try Fixture()
        let client = try f.client()
        let tasks = (0..<count).map { #"{"id":"t\#($0)","handler":"h","queue":"shared"}"# }
        _ = try client.submit(#"{"name":"wide","id":"wide","tasks":[\#(tasks.joined(separator: ","))]}"#)
        var workers: [LineClient] = []
        for i in 0..<count {
            let queues = ["shared"] + (1..<100).map { "w\(i)-q\($0)" }
            workers.append(try f.worker(name: "w\(i)", queues: queues))
        }
        for worker in workers { _ = try worker.nextTask() }
        let started = Date()
        let record = try client.result("workflow.cancel", #"{"workflow_id":"wide"}"#)
        let took = Date().timeIntervalSince(started)
        #expect(record["state"] == .string("cancelled"), "\(record["state"] ?? .null)")
        #expect(took < 0.5, "workflow.cancel with \(count) workers x 100 queues took \(took) s")
        print("workflow.cancel with \(count) workers x 100 queues: \(Int(took * 1000)) ms")
    }
}
