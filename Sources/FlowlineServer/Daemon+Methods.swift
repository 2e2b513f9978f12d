import FlowlineCore
import FlowlineJournal
import FlowlineProtocol
import FlowlineUV
import Logging

extension Daemon {
    /// One framed line: decode it, check the session may call, and run the method. Never traps on input.
    func handleLine(_ line: ArraySlice<UInt8>, from connection: Connection) {
        let message: RPCMessage
        do {
            message = try RPCMessage.decode(line, using: &lineParser)
        } catch {
            answer(RPCEncoder.error(id: error.id, error.error), to: connection.id, request: error.id)
            return
        }
        guard case .request(let id, let method, let params) = message else { return }  // peers' responses need nothing
        guard connection.isAuthenticated || method == "hello" else {
            if id != nil { answer(RPCEncoder.error(id: id, .unauthorized), to: connection.id, request: id) }
            return
        }
        if let grant = connection.grant, !AccessTokens.allows(grant.role, method) {
            if id != nil {
                let role = grant.role.rawValue
                let error = RPCError.forbidden(method, role: role, detail: "a \(role) token may not call \(method)")
                answer(RPCEncoder.error(id: id, error), to: connection.id, request: id)
            }
            return
        }
        do {
            let call = try Call.decode(method: method, params: params)
            perform(call, id: id, from: connection, lineBytes: line.count)
        } catch {
            if id != nil { answer(RPCEncoder.error(id: id, error), to: connection.id, request: id) }
        }
    }

    func perform(_ call: Call, id: RPCID?, from connection: Connection, lineBytes: Int = 0) {
        let c = connection.id
        if call.isRead {
            if let id { turnReads.append((c, id, call)) }
        } else if !call.isSessionOnly && !journalHasRoom(forLine: lineBytes) {
            return refuseWrite(id: id, to: c)
        }
        switch call {
        case .hello(let hello): greet(hello, id: id, from: connection)
        case .submit(let spec): handle(.submit(spec, request: register(c, id)))
        case .wait(let w, let timeout): handle(.wait(w, timeout: timeout, request: register(c, id)))
        case .cancel(let w, let reason, let revert):
            handle(.cancel(w, reason: reason, revert: revert, request: register(c, id)))
        case .rerun(let w, let from): handle(.rerun(w, from: from, request: register(c, id)))
        case .taskResult(let lease, let task):
            guard let id else { return }
            let (result, rejection) =
                lease.map { coordinator.taskResult(lease: $0, from: c, task: task) }
                ?? (nil, .staleLease)
            if let result {
                reply(id, to: c) {
                    $0.beginObject()
                    $0.key("result")
                    $0.raw(result)
                    $0.endObject()
                }
            } else {
                answer(RPCEncoder.error(id: id, (rejection ?? .staleLease).rpcError), to: c, request: id)
            }
        case .cancelMany(let filter): handle(.cancelMany(filter, request: register(c, id)))
        case .rerunMany(let filter): handle(.rerunMany(filter, request: register(c, id)))
        case .complete(let lease, let result, let poll):
            outcome(lease, id: id, from: c) { .complete($0, result: result, poll: poll, from: c, request: $1) }
        case .await(let lease, let future):
            outcome(lease, id: id, from: c) { .await($0, future, from: c, request: $1) }
        case .spawn(let lease, let tasks, let output):
            outcome(lease, id: id, from: c) { .spawn($0, tasks: tasks, output: output, from: c, request: $1) }
        case .resolve(let key, let outcome, let resolutionID):
            handle(.resolve(key: key, outcome, resolutionID: resolutionID, request: register(c, id)))
        case .release(let lease): outcome(lease, id: id, from: c) { .release($0, from: c, request: $1) }
        case .quiet:
            handle(.quiet(c))
            reply(id, to: c) {
                $0.beginObject()
                $0.endObject()
            }
        case .fail(let lease, let error):
            outcome(lease, id: id, from: c) { .fail($0, error: error, from: c, request: $1) }
        case .heartbeat(let lease, let progress):
            outcome(lease, id: id, from: c) { .heartbeat($0, progress: progress, from: c, request: $1) }
        case .get(let w):
            guard let id else { return }
            answer(record(w), to: c, request: id)
        case .list(let query): reply(id, to: c) { $0.workflowList(self.list(query)) }
        case .history(let w): history(w, id: id, to: c)
        case .workersList: reply(id, to: c) { $0.workers(self.coordinator.workers) }
        case .stats: reply(id, to: c) { self.writeStats(&$0) }
        case .schedule(let call): schedule(call, id: id, from: c)
        case .pauseWorkflow(let w, let paused): handle(.pauseWorkflow(w, paused: paused, request: register(c, id)))
        case .pauseQueue(let queue, let paused): handle(.pauseQueue(queue, paused: paused, request: register(c, id)))
        case .setLimit(let key, let limit): handle(.setLimit(key: key, limit, request: register(c, id)))
        case .deleteLimit(let key): handle(.deleteLimit(key: key, request: register(c, id)))
        case .getLimit(let key):
            guard let id else { return }
            let state = coordinator.state
            let reply: Reply =
                state.limits[key].map { .limit(key: key, $0, running: state.limitRunning[key] ?? 0) }
                ?? .failure(.unknownLimit(key))
            answer(reply, to: c, request: id)
        case .listLimits:
            let state = coordinator.state
            reply(id, to: c) { w in
                w.beginObject()
                w.key("limits")
                w.beginArray()
                for (key, limit) in state.limits.sorted(by: { $0.key < $1.key }) {
                    w.limit(key: key, limit, running: state.limitRunning[key] ?? 0)
                }
                w.endArray()
                w.endObject()
            }
        }
    }

    private func outcome(
        _ lease: LeaseID?,
        id: RPCID?,
        from c: ConnectionID,
        _ command: (LeaseID, RequestID?) -> Command
    ) {
        guard let lease else {
            if id != nil { answer(RPCEncoder.error(id: id, .staleLease), to: c, request: id) }
            return
        }
        handle(command(lease, id == nil ? nil : register(c, id)))
    }

    private func reply(_ id: RPCID?, to c: ConnectionID, _ body: (inout JSONWriter) -> Void) {
        guard let id else { return }
        answer(RPCEncoder.response(id: id, result: body), to: c, request: id)
    }

    private func record(_ w: WorkflowID) -> Reply {
        coordinator.record(w, at: Clock.now()).map { .workflow($0) } ?? .failure(.unknownWorkflow(w))
    }

    private func greet(_ hello: Hello, id: RPCID?, from connection: Connection) {
        if let tokens = configuration.tokens {
            guard let grant = hello.token.flatMap(tokens.grant(for:)) else {
                return refuseHello(id: id, from: connection)
            }
            guard hello.role != .worker || AccessTokens.mayServe(grant, queues: hello.queues) else {
                let role = grant.role.rawValue
                let detail =
                    grant.role == .client
                    ? "a client token may not say hello as a worker"
                    : "this worker token may serve only the queues \((grant.queues ?? []).joined(separator: ","))"
                let error = RPCError.forbidden("hello", role: role, detail: detail)
                if id != nil { answer(RPCEncoder.error(id: id, error), to: connection.id, request: id) }
                return
            }
            guard connection.hello == nil || connection.grant == grant else {
                // A second hello may not change what the session is allowed: a worker registered under one
                // token's queues would keep its registration under another's.
                let error = RPCError.forbidden("hello", role: grant.role.rawValue, detail: "a session keeps its token")
                if id != nil { answer(RPCEncoder.error(id: id, error), to: connection.id, request: id) }
                return
            }
            connection.grant = grant
        }
        connection.isAuthenticated = true
        let first = connection.hello == nil
        connection.hello = hello
        // The answer goes out before anything the registration dispatches: a worker sees its hello answered
        // before its first task.run. It reports no commit, so it goes with the dispatches, which do not wait for
        // the meta sync of `--sync full` (`Daemon.dispatch`).
        if let id {
            let answer = RPCEncoder.response(id: id) { w in
                w.beginObject()
                w.key("server")
                w.string("flowline")
                w.key("version")
                w.string(flowlineVersion)
                w.key("protocol")
                w.int(1)
                w.key("session")
                w.string(connection.id.description)
                w.endObject()
            }
            dispatch(to: connection.id) { $0 += answer }
            outbox.noteReply(to: connection.id, id: id)
        }
        // With a full journal the worker is registered once there is room (`Daemon.leaveFullJournal`).
        if first && hello.role == .worker && !journalFull {
            logger.notice("worker connected", metadata: ["worker": "\(hello.name)", "queues": "\(hello.queues)"])
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

    /// A hello without a good token. A first one leaves the peer where it was (it may try again until
    /// `--hello-timeout`); a later one ends the session's rights and the connection, after its answer (SPEC §12): a
    /// worker's leases end as on a disconnect.
    private func refuseHello(id: RPCID?, from connection: Connection) {
        guard connection.hello != nil else {
            if id != nil { answer(RPCEncoder.error(id: id, .unauthorized), to: connection.id, request: id) }
            return
        }
        logger.notice("closing a session whose second hello failed", metadata: ["peer": "\(connection.socket.peer)"])
        connection.isAuthenticated = false
        connection.grant = nil
        connection.hello = nil
        // Written at once, ahead of whatever this turn queued for the peer: the connection ends here, and its
        // answers still queued are dropped with it, as they would be had it closed.
        connection.socket.write(RPCEncoder.error(id: id, .unauthorized))
        connection.socket.closeAfterWrites()
    }

    private func history(_ w: WorkflowID, id: RPCID?, to c: ConnectionID) {
        guard let id else { return }
        guard coordinator.state.workflows[w] != nil else {
            answer(RPCEncoder.error(id: id, Rejection.unknownWorkflow(w).rpcError), to: c, request: id)
            return
        }
        do {
            let events = try journal.history(of: w)
            reply(id, to: c) { $0.history(events) }
        } catch {
            logger.error("cannot read history", metadata: ["workflow_id": "\(w)", "error": "\(error)"])
            answer(RPCEncoder.error(id: id, .unavailable), to: c, request: id)
        }
    }
}

/// Compares secrets in time that depends only on their lengths, never on where they first differ.
func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    // The whole length difference is kept: truncated to a byte, lengths 256 apart compared equal when the longer
    // one ended in NUL bytes ("s3cret" and "s3cret" + 256 × "\u{0}").
    var difference = UInt(bitPattern: a.count ^ b.count)
    for i in 0..<max(a.count, b.count) {
        difference |= UInt((i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0))
    }
    return difference == 0
}

extension JSONWriter {
    /// `workflow.history`'s result (and `/api/workflows/{id}/history`'s): `{"events": [...]}`, oldest first.
    mutating func history(_ events: [(seq: UInt64, event: Event)]) {
        beginObject()
        key("events")
        beginArray()
        for (seq, event) in events { self.event(event, seq: seq) }
        endArray()
        endObject()
    }
}
