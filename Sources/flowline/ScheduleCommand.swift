import ArgumentParser
import Flowline
import FlowlineProtocol
import Foundation

/// `flowline schedule create|list|get|delete|pause|unpause|trigger` (SPEC §11).
struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Create, list, inspect, pause, trigger and delete cron schedules.",
        subcommands: [
            Create.self, List.self, Get.self, Delete.self, Pause.self, Unpause.self, Trigger.self,
        ]
    )

    /// The record as a few lines: id, cron and zone, state, next and last fire, runs still running.
    static func render(_ record: JSON) -> String {
        var fields = Fields()
        fields.add("Schedule", record["schedule_id"]?.stringValue ?? "")
        fields.add("Cron", "\(record["cron"]?.stringValue ?? "") (\(record["timezone"]?.stringValue ?? "UTC"))")
        fields.add("Workflow", record["workflow"]?["name"]?.stringValue ?? "")
        fields.add("Overlap", record["overlap"]?.stringValue ?? "")
        fields.add("Catch-up", record["catchup"]?.stringValue ?? "")
        fields.add("Paused", record["paused"] == .bool(true) ? "yes" : "no")
        fields.add("Next fire", record["next_fire_at"]?.stringValue ?? "-")
        fields.add("Last fire", record["last_fire_at"]?.stringValue ?? "-")
        let running = record["running"]?.arrayValue?.compactMap(\.stringValue) ?? []
        fields.add("Running", running.isEmpty ? "-" : running.joined(separator: ", "))
        return fields.rendered
    }

    /// Calls `method` with `{schedule_id}` and prints the record (or its JSON).
    static func act(_ method: String, _ id: String, options: ServerOptions, json: Bool) async throws {
        let record = try await options.with { client throws(FlowlineError) in
            try await client.call(method, .object(["schedule_id": .string(id)]))
        }
        print(json ? record.description : render(record))
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "Create a schedule that submits a workflow document (its template) at each cron fire."
        )
        @OptionGroup var options: ServerOptions
        @Argument(help: "The schedule id; its runs are SCHEDULE_ID@TIME.")
        var id: String
        @Argument(help: "The workflow document (JSON, without an id), or - for stdin.")
        var file: String
        @Option(help: "The cron expression: 5 fields, or @hourly, @daily, ...")
        var cron: String
        @Option(help: "An IANA time zone (default UTC).")
        var timezone: String?
        @Option(help: "skip (default), allow or cancel_previous.")
        var overlap: String?
        @Option(help: "After downtime: none, one (default) or all.")
        var catchup: String?
        @Flag(help: "Create it paused.")
        var paused = false

        func run() async throws {
            let bytes: [UInt8]
            if file == "-" {
                bytes = Array(FileHandle.standardInput.readDataToEndOfFile())
            } else {
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw ToolError("cannot read \(file)")
                }
                bytes = Array(data)
            }
            let document = try parseJSON(bytes, source: file == "-" ? "stdin" : file, payloadsFrom: 1)
            var params: [(String, JSON)] = [("schedule_id", .string(id)), ("cron", .string(cron))]
            if let timezone { params.append(("timezone", .string(timezone))) }
            params.append(("workflow", document))
            if let overlap { params.append(("overlap", .string(overlap))) }
            if let catchup { params.append(("catchup", .string(catchup))) }
            if paused { params.append(("paused", .bool(true))) }
            let answer = try await options.with { client throws(FlowlineError) in
                try await client.call("schedule.create", .object(JSONObject(params)))
            }
            if answer["created"] == .bool(false) {
                FileHandle.standardError.write(Data("flowline: schedule \(id) already exists as defined\n".utf8))
            }
            print(id)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the schedules.")
        @OptionGroup var options: ServerOptions
        @Flag(help: "Print the answer as JSON.")
        var json = false

        func run() async throws {
            let answer = try await options.with { client throws(FlowlineError) in
                try await client.call("schedule.list", .object([:]))
            }
            if json {
                print(answer.description)
                return
            }
            var table = TextTable([
                .init("SCHEDULE"), .init("CRON"), .init("TIMEZONE"), .init("PAUSED"), .init("NEXT FIRE"),
                .init("RUNNING", .right),
            ])
            for record in answer["schedules"]?.arrayValue ?? [] {
                table.append([
                    record["schedule_id"]?.stringValue ?? "", record["cron"]?.stringValue ?? "",
                    record["timezone"]?.stringValue ?? "", record["paused"] == .bool(true) ? "yes" : "no",
                    record["next_fire_at"]?.stringValue ?? "-", String(record["running"]?.arrayValue?.count ?? 0),
                ])
            }
            print(table.rendered)
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "get", abstract: "Show a schedule.")
        @OptionGroup var options: ServerOptions
        @Argument(help: "The schedule id.") var id: String
        @Flag(help: "Print the record as JSON.") var json = false
        func run() async throws { try await ScheduleCommand.act("schedule.get", id, options: options, json: json) }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete",
            abstract: "Delete a schedule (its runs go on)."
        )
        @OptionGroup var options: ServerOptions
        @Argument(help: "The schedule id.") var id: String
        func run() async throws {
            _ = try await options.with { client throws(FlowlineError) in
                try await client.call("schedule.delete", .object(["schedule_id": .string(id)]))
            }
            print("deleted \(id)")
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pause",
            abstract: "Pause a schedule: no fires until unpaused, and none caught up."
        )
        @OptionGroup var options: ServerOptions
        @Argument(help: "The schedule id.") var id: String
        @Flag(help: "Print the record as JSON.") var json = false
        func run() async throws { try await ScheduleCommand.act("schedule.pause", id, options: options, json: json) }
    }

    struct Unpause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "unpause", abstract: "Unpause a schedule.")
        @OptionGroup var options: ServerOptions
        @Argument(help: "The schedule id.") var id: String
        @Flag(help: "Print the record as JSON.") var json = false
        func run() async throws { try await ScheduleCommand.act("schedule.unpause", id, options: options, json: json) }
    }

    struct Trigger: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "trigger",
            abstract: "Start a run now, whatever overlap says; prints the run's workflow id."
        )
        @OptionGroup var options: ServerOptions
        @Argument(help: "The schedule id.") var id: String
        func run() async throws {
            let answer = try await options.with { client throws(FlowlineError) in
                try await client.call("schedule.trigger", .object(["schedule_id": .string(id)]))
            }
            print(answer["workflow_id"]?.stringValue ?? "")
        }
    }
}
