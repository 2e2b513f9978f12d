import FlowlineCore

/// A peer's connection to the daemon, numbered from 1 in the order they were accepted and never reused.
///
/// The core names the same number `WorkerID`: a worker's session is its connection, and the core is handed a
/// connection's id wherever a command comes from one (`Command.complete(from:)`, `Command.disconnect`), a worker's
/// or not. The server's side names it for what it is here.
typealias ConnectionID = WorkerID
