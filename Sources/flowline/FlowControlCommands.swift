import ArgumentParser
import Flowline
import FlowlineProtocol

/// `flowline limit set|list|delete`: limits by key (SPEC §11).
struct LimitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "limit",
        abstract: "Set, list or delete limits by key (concurrency and rate).",
        subcommands: [LimitSetCommand.self, LimitListCommand.self, LimitDeleteCommand.self]
    )
}

struct LimitSetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Set a key's limit; tasks listing the key in `limits` run only within it."
    )

    @OptionGroup var options: ServerOptions
    @Argument(help: "The limit key.")
    var key: String
    @Option(help: "At most this many runs at once (0 holds every task of the key).")
    var concurrency: Int?
    @Option(name: .customLong("per-s"), help: "At most this many dispatches a second (a token bucket).")
    var perSecond: Double?
    @Option(help: "The bucket's size; default --per-s.")
    var burst: Double?
    @Flag(help: "Print the limit as JSON.")
    var json = false

    func run() async throws {
        var params: JSONObject = ["key": .string(key)]
        if let concurrency { params["concurrency"] = .int(Int64(concurrency)) }
        if let perSecond { params["per_s"] = .double(perSecond) }
        if let burst { params["burst"] = .double(burst) }
        let limit = try await options.with { client throws(FlowlineError) in
            try await client.call("limit.set", .object(params))
        }
        print(json ? limit.description : LimitTable([limit]).rendered)
    }
}

struct LimitListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the limits and their use.")

    @OptionGroup var options: ServerOptions
    @Flag(help: "Print the limits as JSON.")
    var json = false

    func run() async throws {
        let answer = try await options.with { client throws(FlowlineError) in
            try await client.call("limit.list", .object([:]))
        }
        print(json ? answer.description : LimitTable(answer["limits"]?.arrayValue ?? []).rendered)
    }
}

struct LimitDeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete a key's limit: its tasks are unlimited again."
    )

    @OptionGroup var options: ServerOptions
    @Argument(help: "The limit key.")
    var key: String

    func run() async throws {
        _ = try await options.with { client throws(FlowlineError) in
            try await client.call("limit.delete", .object(["key": .string(key)]))
        }
    }
}

/// The limits as a table: key, concurrency, rate, burst, running.
struct LimitTable {
    var limits: [JSON]
    init(_ limits: [JSON]) { self.limits = limits }

    var rendered: String {
        var table = TextTable([
            .init("Key"), .init("Concurrency", .right), .init("Per s", .right), .init("Burst", .right),
            .init("Running", .right),
        ])
        func text(_ value: JSON?) -> String {
            guard let value, !value.isNull else { return "-" }
            if let n = value.int64Value { return String(n) }
            return value.doubleValue.map { String($0) } ?? value.description
        }
        for limit in limits {
            table.append([
                limit["key"]?.stringValue ?? "", text(limit["concurrency"]), text(limit["per_s"]),
                text(limit["burst"]), text(limit["running"]),
            ])
        }
        return table.rendered
    }
}

/// `flowline pause ID` / `flowline pause --queue Q`: nothing new is dispatched until `resume` (SPEC §11).
struct PauseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract: "Pause a workflow (or with --queue, a queue): running tasks finish, nothing new starts."
    )

    @OptionGroup var target: PauseTarget

    func run() async throws { try await target.send(paused: true) }
}

/// `flowline resume ID` / `flowline resume --queue Q`.
struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Resume a paused workflow (or with --queue, a paused queue)."
    )

    @OptionGroup var target: PauseTarget

    func run() async throws { try await target.send(paused: false) }
}

struct PauseTarget: ParsableArguments {
    @OptionGroup var options: ServerOptions
    @Argument(help: "The workflow id (not with --queue).")
    var id: String?
    @Option(help: "A queue instead of a workflow.")
    var queue: String?
    @Flag(help: "Print the answer as JSON.")
    var json = false

    func validate() throws {
        guard (id == nil) != (queue == nil) else { throw ValidationError("give a workflow id or --queue, not both") }
    }

    func send(paused: Bool) async throws {
        if let queue {
            _ = try await options.with { client throws(FlowlineError) in
                try await client.call(paused ? "queue.pause" : "queue.resume", .object(["queue": .string(queue)]))
            }
            return
        }
        let id = self.id ?? ""
        let record = try await options.with { client throws(FlowlineError) in
            try await client.call(paused ? "workflow.pause" : "workflow.resume", .object(["workflow_id": .string(id)]))
        }
        print(
            json
                ? record.description
                : StatusReport(workflow: try WorkflowView(json: record), now: TimeText.now()).rendered
        )
    }
}
