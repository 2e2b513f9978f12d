import ArgumentParser
import Flowline
import FlowlineProtocol

/// `flowline stats`: workflows and tasks by state, journal facts, uptime.
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show workflows and tasks by state, journal facts and uptime."
    )

    @OptionGroup var options: ServerOptions
    @Flag(help: "Print the stats as JSON.")
    var json = false

    func run() async throws {
        let stats = try await options.with { client throws(FlowlineError) in try await client.stats() }
        if json {
            print(stats.description)
            return
        }
        func counts(_ json: JSON?) -> String {
            let pairs = (json?.objectValue ?? [:]).compactMap { k, v in v.int64Value.map { (k, $0) } }
            let total = pairs.reduce(0) { $0 + $1.1 }
            let nonzero = pairs.filter { $0.1 > 0 }.sorted { $0.1 > $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
            return nonzero.isEmpty ? "0" : "\(total): " + nonzero.map { "\($0.1) \($0.0)" }.joined(separator: ", ")
        }
        var fields = Fields()
        fields.add("Workflows", counts(stats["workflows"]))
        fields.add("Tasks", counts(stats["tasks"]))
        let journal = stats["journal"]
        fields.add("Journal", InspectFacts.bytes(Int(journal?["bytes"]?.int64Value ?? 0)))
        fields.add("Last seq", String(journal?["last_seq"]?.int64Value ?? 0))
        fields.add("Commits", String(journal?["commits"]?.int64Value ?? 0))
        let uptime = stats["uptime_s"]?.doubleValue ?? 0
        fields.add("Uptime", TimeText.duration(Millis(uptime * 1000)))
        print(fields.rendered)
    }
}
