// flowline-examples: the seeds' examples, each with its own worker in this process.
//
//   flowline-examples function-flow --server HOST:PORT [--listener-delay S]
//   flowline-examples flink-stocks  --server HOST:PORT
//   flowline-examples job-runner    --server HOST:PORT [--attempts N]
//   flowline-examples simpleflow    --server HOST:PORT [--x N]
//   flowline-examples gigq-etl      --server HOST:PORT
//   flowline-examples listener      --server HOST:PORT --key K [--result JSON] [--delay S]
//   flowline-examples worker        --server HOST:PORT [--name N] [--queue Q] [--grace S]
//
// Every example also takes --token T, --id ID (the workflow id) and --timeout S. It prints the workflow's
// tasks and exits 0 when the workflow reached the outcome its seed describes, 1 otherwise.
import Flowline
import FlowlineExamples
import FlowlineProtocol
import Foundation
import Synchronization

let usage = """
    usage: flowline-examples COMMAND --server HOST:PORT [options]
      function-flow  [--listener-delay S]   Function Flow: step3 waits on a query job's future
      flink-stocks                          Flink Tasks: spawned fan-out / fan-in over stock series
      job-runner     [--attempts N]         TaskFlow job runner: flow-level Times(N) retry, reverts between runs
      simpleflow     [--x N]                simpleflow's quickstart, (x + 1) * 2
      gigq-etl                              GigQ's daily ETL with fan-out / fan-in
      listener       --key K [--result JSON] [--delay S]
                                            the external-event listener: resolves future K
      worker         [--name N] [--queue Q] [--grace S]
                                            a worker process with a `sleep` handler ({"ms": N} input)
                                            until SIGTERM or SIGINT, then a graceful stop; exits 0
    common options: --server HOST:PORT (127.0.0.1:7420), --token T, --id ID, --timeout S (60)
    """

/// Exits with `message` on stderr.
func fail(_ message: String, status: Int32 = 2) -> Never {
    FileHandle.standardError.write(Data("flowline-examples: \(message)\n".utf8))
    exit(status)
}

/// `--name value` pairs after the command.
struct Options {
    var values: [String: String] = [:]

    init(_ arguments: ArraySlice<String>, allowed: Set<String>) {
        var rest = arguments
        while let name = rest.popFirst() {
            if name == "-h" || name == "--help" {
                print(usage)
                exit(0)
            }
            guard name.hasPrefix("--"), allowed.contains(String(name.dropFirst(2))) else {
                fail("unknown option \(name)\n\(usage)")
            }
            guard let value = rest.popFirst() else { fail("\(name) needs a value") }
            values[String(name.dropFirst(2))] = value
        }
    }

    func int(_ name: String, default value: Int) -> Int {
        guard let text = values[name] else { return value }
        guard let n = Int(text) else { fail("--\(name) must be an integer, not \(text)") }
        return n
    }

    func seconds(_ name: String, default value: Double) -> Duration {
        guard let text = values[name] else { return .milliseconds(Int64(value * 1000)) }
        guard let s = Double(text), s >= 0 else { fail("--\(name) must be seconds, not \(text)") }
        return .milliseconds(Int64(s * 1000))
    }
}

/// Prints a line at once (stdout is a pipe under tools/demo), so that this process's lines and its listener's
/// come out in the order they happen.
@Sendable func say(_ line: String) {
    print(line)
    fflush(nil)
}

/// The listener processes function-flow started, to wait for before exiting.
let listeners = Mutex<[Process]>([])

/// Starts `flowline-examples listener` for `jobID` as a separate process: the seed's Cloud Function, which the
/// query job's completion event triggers once the job is done (here, after `delay`).
func startListener(jobID: String, server: ServerAddress, delay: Duration) {
    let process = Process()
    let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    process.executableURL = URL(fileURLWithPath: me)
    let seconds = Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
    var arguments = [
        "listener", "--server", server.description, "--key", jobID,
        "--result", FunctionFlow.queryJobResult(jobID).description, "--delay", String(seconds),
    ]
    if let token = server.token { arguments += ["--token", token] }
    process.arguments = arguments
    do {
        try process.run()
        say("started query job \(jobID); listener pid \(process.processIdentifier) reports it in \(seconds) s")
        listeners.withLock { $0.append(process) }
    } catch {
        print("cannot start the external-event listener: \(error)")
    }
}

func main() async -> Int32 {
    let arguments = CommandLine.arguments.dropFirst()
    guard let command = arguments.first else { fail(usage) }
    if command == "-h" || command == "--help" || command == "help" {
        print(usage)
        return 0
    }
    let extra: Set<String> =
        switch command {
        case "function-flow": ["listener-delay"]
        case "job-runner": ["attempts"]
        case "simpleflow": ["x"]
        case "listener": ["key", "result", "delay"]
        case "flink-stocks", "gigq-etl": []
        case "worker": ["name", "queue", "grace"]
        default: fail("unknown command \(command)\n\(usage)")
        }
    let options = Options(arguments.dropFirst(), allowed: extra.union(["server", "token", "id", "timeout"]))
    let serverText = options.values["server"] ?? "127.0.0.1:7420"
    guard let server = ServerAddress(parsing: serverText, token: options.values["token"]) else {
        fail("--server must be HOST:PORT, not \(serverText)")
    }

    if command == "worker" {
        // A worker as a deployment runs it: SIGTERM (kubectl rollout, systemctl stop) lets running handlers
        // finish for --grace seconds, hands back what is left without using an attempt, and exits 0.
        let worker = Worker(
            host: server.host,
            port: server.port,
            token: server.token,
            name: options.values["name"] ?? "examples-worker",
            queues: [options.values["queue"] ?? "default"],
            concurrency: 4,
            gracePeriod: options.seconds("grace", default: 30)
        )
        worker.register("sleep") { task in
            struct Nap: Decodable { var ms: Int }
            let nap = try task.input(as: Nap.self)
            try await Task.sleep(for: .milliseconds(nap.ms))
            return .result(["slept_ms": .int(Int64(nap.ms))])
        }
        say("worker ready")
        do {
            try await worker.runUntilSignalled()
            say("worker stopped")
            return 0
        } catch {
            print("worker: \(error)")
            return 1
        }
    }

    if command == "listener" {
        guard let key = options.values["key"] else { fail("listener needs --key") }
        let result: JSON
        do {
            result = try JSONParser.parse(Array((options.values["result"] ?? "null").utf8))
        } catch {
            fail("--result is not JSON: \(error)")
        }
        do {
            let matched = try await ExternalEventListener.resolve(
                key: key,
                result: result,
                on: server,
                delay: options.seconds("delay", default: 0)
            )
            say("external event \(key): resolved (\(matched) task(s) waiting)")
            return 0
        } catch {
            print("external event \(key): \(error)")
            return 1
        }
    }

    let example: any Example =
        switch command {
        case "function-flow":
            FunctionFlow(server: server) { [delay = options.seconds("listener-delay", default: 0.5)] jobID in
                startListener(jobID: jobID, server: server, delay: delay)
            }
        case "flink-stocks": FlinkStocks()
        case "job-runner": JobRunner(attempts: options.int("attempts", default: 3))
        case "simpleflow": SimpleflowBasic(x: options.int("x", default: 1))
        default: GigQETL()
        }
    defer { for listener in listeners.withLock({ $0 }) { listener.waitUntilExit() } }
    do {
        _ = try await ExampleRunner.runAndCheck(
            example,
            on: server,
            id: options.values["id"],
            timeout: options.seconds("timeout", default: 60),
            say: say
        )
        return 0
    } catch let failure as ExampleFailure {
        print("UNEXPECTED OUTCOME: \(failure)")
        return 1
    } catch {
        print("error: \(error)")
        return 1
    }
}

exit(await main())
