import ArgumentParser
import Flowline
import FlowlineProtocol

/// `flowline workers`: the connected workers.
struct WorkersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "workers", abstract: "List the connected workers.")

    @OptionGroup var options: ServerOptions
    @Flag(help: "Print the workers as JSON.")
    var json = false

    func run() async throws {
        let workers = try await options.with { client throws(FlowlineError) in try await client.workers() }
        if json {
            let list: [JSON] = workers.map { w in
                [
                    "name": .string(w.name), "queues": .array(w.queues.map(JSON.string)),
                    "concurrency": .int(Int64(w.concurrency)), "running": .int(Int64(w.running)),
                    "connected_at": .string(w.connectedAt),
                ]
            }
            print(JSON.object(["workers": .array(list)]).description)
            return
        }
        var table = TextTable([
            .init("Worker"), .init("Queues"), .init("Running", .right), .init("Concurrency", .right),
            .init("Connected"),
        ])
        for w in workers {
            table.append([
                w.name, w.queues.joined(separator: ","), String(w.running), String(w.concurrency),
                TimeText.parse(w.connectedAt).map(TimeText.dateTime) ?? w.connectedAt,
            ])
        }
        print(table.rendered)
    }
}
