import FlowlineCore
import FlowlineJournal
import FlowlineProtocol
import Logging

/// A full journal (disk or map): reads go on, writes are refused with -32005 and change nothing, and writes come
/// back as soon as there is room.
///
/// The first commit that fails for lack of space rebuilds the state from the journal (`failTurn`), without
/// resuming it: the state is then exactly what the journal holds, and stays so, because while `journalFull` no
/// command that could change it reaches the coordinator. From then on each write request first asks the journal
/// whether it has room for about what its line may add (`JournalStore.hasRoom`: a comparison, a
/// `posix_fallocate` or a `statvfs`), and is refused at once when it has not: a refused write costs that question,
/// not a rebuild. Should a commit still fail while full, the state goes back to the rebuilt one (`fullSnapshot`). Timers wait, compaction and checkpoints wait, workers that
/// say hello are registered later. Once the journal has room, the state is resumed (leases given back, as at a
/// start) and workers registered, in the turn of the write that found the room, whose commit carries it all.
extension Daemon {
    /// How long a timer due while the journal is full waits before it is tried again, in milliseconds.
    static let fullRetryMilliseconds: Int64 = 1000

    /// Whether the coordinator may be given a command that writes, from a request line of `lineBytes`: true
    /// unless a commit once failed for lack of space and the journal has no room for about what the line may
    /// add now. Finding room ends the full state (`leaveFullJournal`).
    func journalHasRoom(forLine lineBytes: Int = 0) -> Bool {
        guard watchingSpace else { return true }
        // A record holds about the line; `JournalStore.reserve` counts twice its bytes.
        guard journal.hasRoom(for: 4 * lineBytes + 64 << 10) else { return false }
        if journalFull { leaveFullJournal() }
        return true
    }

    /// The journal has room again: resume the state the rebuild left as the journal holds it, and register the
    /// workers connected meanwhile. What this decides is committed with the turn's other events.
    private func leaveFullJournal() {
        journalFull = false
        logger.notice("the journal has room again: taking writes")
        if resumeDeferred {
            resumeDeferred = false
            apply(coordinator.resume(at: Clock.now()))
        }
        let registered = Set(coordinator.workers.map(\.id))
        for connection in connections.values.sorted(by: { $0.id < $1.id }) {
            guard let hello = connection.hello, hello.role == .worker, !registered.contains(connection.id) else {
                continue
            }
            handle(
                .connectWorker(
                    connection.id,
                    name: hello.name,
                    queues: hello.queues,
                    concurrency: hello.concurrency,
                    handlers: hello.handlers
                )
            )
        }
    }

    /// A write refused for lack of room: -32005, and nothing reaches the coordinator.
    func refuseWrite(id: RPCID?, to connection: ConnectionID) {
        guard id != nil else { return }
        answer(RPCEncoder.error(id: id, .unavailable), to: connection, request: id)
    }
}

extension Call {
    /// Whether the call only reads the state: answered from it at once, never refused for a full journal.
    var isRead: Bool {
        switch self {
        case .get, .list, .history, .workersList, .stats, .taskResult, .schedule(.get), .schedule(.list), .getLimit,
            .listLimits:
            true
        default: false
        }
    }

    /// Whether the call touches only the connection's session, not the journal (`hello`, `worker.quiet`), or
    /// waits on the state (`workflow.wait`).
    var isSessionOnly: Bool {
        switch self {
        case .hello, .quiet, .wait: true
        default: false
        }
    }
}
