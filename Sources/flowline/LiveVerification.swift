import ArgumentParser
import Flowline
import FlowlineCore
import FlowlineJournal
import FlowlineProtocol
import Foundation

/// `replay --verify --server`: each workflow rebuilt offline must equal the running daemon's record of it.
///
/// The daemon journals before it answers, so a record fetched first is never newer than a journal read after it;
/// a workflow that moved in between differs, and is fetched and rebuilt again (a few rounds) before it counts.
struct LiveVerification {
    var options: ServerOptions
    var store: JournalStore
    var usesCheckpoint: Bool
    var rounds = 5

    init(server: String, tokenFile: String?, store: JournalStore, usesCheckpoint: Bool) throws {
        options = try ServerOptions.parse(["--server", server] + (tokenFile.map { ["--token-file", $0] } ?? []))
        self.store = store
        self.usesCheckpoint = usesCheckpoint
    }

    /// Compares the workflows `ids` and returns how many were compared and one line per difference.
    func compare(_ ids: [String]) async throws(ToolError) -> (compared: Int, problems: [String]) {
        let client = try await options.connect()
        defer { client.close() }
        var pending = ids
        var problems: [String: String] = [:]
        for round in 0..<rounds where !pending.isEmpty {
            if round > 0 { try? await Task.sleep(for: .milliseconds(200)) }
            var live: [String: WorkflowRecord] = [:]
            for id in pending {
                do {
                    live[id] = try await client.get(id)
                } catch {
                    throw ToolError.request(error, server: options.server)
                }
            }
            let replay = try JournalReplay(store: store, usesCheckpoint: usesCheckpoint)
            pending = pending.filter { id in
                guard let rebuilt = replay.coordinator.state.workflows[WorkflowID(id)], let record = live[id] else {
                    problems[id] = "\(id): in the journal but not known to the daemon"
                    return true
                }
                let offline = Self.withoutConnectionFacts(JournalReplay.record(rebuilt))
                let daemon = Self.withoutConnectionFacts(record.json)
                guard offline != daemon else { return false }
                problems[id] = "\(id): " + Self.difference(offline, daemon)
                return true
            }
        }
        return (ids.count, pending.compactMap { problems[$0] })
    }

    /// `record` without what depends on the workers connected, not on the journal: each task's `waiting_for`
    /// (no capable worker is only known live).
    static func withoutConnectionFacts(_ record: JSON) -> JSON {
        guard case .object(var workflow) = record, case .array(let tasks)? = workflow["tasks"] else { return record }
        workflow["tasks"] = .array(
            tasks.map { task in
                guard case .object(var fields) = task else { return task }
                _ = fields.removeValue(forKey: "waiting_for")
                return .object(fields)
            }
        )
        return .object(workflow)
    }

    /// The first field that differs, as `tasks[2].state: replay "running", daemon "completed"`.
    static func difference(_ offline: JSON, _ live: JSON, path: String = "") -> String {
        switch (offline, live) {
        case (.object(let a), .object(let b)):
            for key in Set(a.keys).union(b.keys).sorted() where a[key] != b[key] {
                return difference(a[key] ?? .null, b[key] ?? .null, path: path.isEmpty ? key : "\(path).\(key)")
            }
        case (.array(let a), .array(let b)) where a.count == b.count:
            for i in a.indices where a[i] != b[i] { return difference(a[i], b[i], path: "\(path)[\(i)]") }
        default: break
        }
        return "\(path): replay \(offline), daemon \(live)"
    }
}
