public import FlowlineCore

extension Rejection {
    /// The JSON-RPC error for this rejection (SPEC §3).
    public var rpcError: RPCError {
        switch self {
        case .staleLease: .staleLease
        case .unknownWorkflow(let id): .notFound("no workflow '\(id.rawValue)'")
        case .unknownLimit(let key): .notFound("no limit '\(key)'")
        case .invalid(let e): .invalidParams(e.message, path: e.path)
        case .idInUse(let id): .idInUse(id.rawValue)
        case .unknownSchedule(let id): .notFound("no schedule '\(id)'")
        case .scheduleIDInUse(let id): .scheduleIDInUse(id)
        }
    }
}

extension RPCEncoder {
    /// The response line for a coordinator reply.
    public static func reply(id: RPCID?, _ reply: Reply) -> [UInt8] {
        var w = JSONWriter()
        writeReply(id: id, reply, to: &w)
        return w.bytes
    }

    /// Appends `reply(id:_:)`'s line to `buffer` (a connection's output), without an array of its own.
    public static func reply(id: RPCID?, _ reply: Reply, appendingTo buffer: inout [UInt8]) {
        appending(to: &buffer) { writeReply(id: id, reply, to: &$0) }
    }

    private static func writeReply(id: RPCID?, _ reply: Reply, to w: inout JSONWriter) {
        switch reply {
        case .ok:
            writeResponse(id: id, to: &w) {
                $0.beginObject()
                $0.endObject()
            }
        case .submitted(let wf, let created):
            writeResponse(id: id, to: &w) { w in
                w.beginObject()
                w.key(JSONKey.workflowID)
                w.string(wf.rawValue)
                w.key(JSONKey.created)
                w.bool(created)
                w.endObject()
            }
        case .workflow(let record): writeResponse(id: id, to: &w) { $0.workflow(record) }
        case .matched(let n):
            writeResponse(id: id, to: &w) { w in
                w.beginObject()
                w.key("matched")
                w.int(Int64(n))
                w.endObject()
            }
        case .limit(let key, let limit, let running):
            writeResponse(id: id, to: &w) { $0.limit(key: key, limit, running: running) }
        case .failure(let rejection): writeError(id: id, rejection.rpcError, to: &w)
        case .scheduleCreated(let schedule, let created):
            writeResponse(id: id, to: &w) { w in
                w.beginObject()
                w.key("schedule_id")
                w.string(schedule)
                w.key(JSONKey.created)
                w.bool(created)
                w.endObject()
            }
        case .schedule(let record, let running): writeResponse(id: id, to: &w) { $0.schedule(record, running: running) }
        }
    }

    /// The `task.run` notification (SPEC §2).
    public static func taskRun(_ run: TaskRun) -> [UInt8] {
        // The members' names and fixed values take about 250 bytes; the rest is the payloads' and strings' sizes.
        var capacity = 320 + run.input.bytes.count + run.workflowInput.bytes.count + (run.result?.bytes.count ?? 0)
        capacity += run.workflowID.rawValue.utf8.count + run.workflowName.utf8.count
        capacity += run.taskID.rawValue.utf8.count + run.handler.utf8.count
        for (dep, result) in run.deps { capacity += dep.rawValue.utf8.count + result.bytes.count + 4 }
        var w = JSONWriter(capacity: capacity)
        writeTaskRun(run, to: &w)
        return w.bytes
    }

    /// Appends `taskRun(_:)`'s line to `buffer` (a worker's output), without an array of its own.
    public static func taskRun(_ run: TaskRun, appendingTo buffer: inout [UInt8]) {
        appending(to: &buffer) { writeTaskRun(run, to: &$0) }
    }

    private static func writeTaskRun(_ run: TaskRun, to w: inout JSONWriter) {
        writeNotification(start: taskRunStart, to: &w) { w in
            w.beginObject()
            w.key(JSONKey.lease)
            w.lease(run.lease)
            w.key(JSONKey.workflowID)
            w.string(run.workflowID.rawValue)
            w.key(JSONKey.workflowName)
            w.string(run.workflowName)
            w.key(JSONKey.taskID)
            w.string(run.taskID.rawValue)
            w.key(JSONKey.handler)
            w.string(run.handler)
            w.key(JSONKey.attempt)
            w.int(Int64(run.attempt))
            w.key(JSONKey.input)
            w.raw(run.input)
            w.key(JSONKey.deps)
            w.beginObject()
            for (dep, result) in run.deps {
                w.key(dep.rawValue)
                w.raw(result)
            }
            w.endObject()
            w.key(JSONKey.workflowInput)
            w.raw(run.workflowInput)
            w.key(JSONKey.deadline)
            w.time(run.deadline)
            switch run.kind {
            case .attempt: break
            case .poll:
                w.key("poll")
                w.bool(true)
            case .revert:
                w.key("revert")
                w.bool(true)
                w.key(JSONKey.result)
                w.raw(run.result ?? .null)
                if let error = run.error {
                    w.key(JSONKey.error)
                    w.taskError(error)
                }
            }
            if let depErrors = run.depErrors {
                w.key("dep_errors")
                w.beginObject()
                for (dep, error) in depErrors {
                    w.key(dep.rawValue)
                    w.taskError(error)
                }
                w.endObject()
            }
            w.endObject()
        }
    }

    private static let taskRunStart = notificationStart("task.run")

    /// The `task.cancel` notification.
    public static func taskCancel(lease: LeaseID, workflow: WorkflowID, task: TaskID, reason: String) -> [UInt8] {
        request(id: nil, method: "task.cancel") { w in
            w.beginObject()
            w.key("lease")
            w.lease(lease)
            w.key("workflow_id")
            w.string(workflow.rawValue)
            w.key("task_id")
            w.string(task.rawValue)
            w.key("reason")
            w.string(reason)
            w.endObject()
        }
    }
}

extension JSONKey {
    // The member names of task.run and of the replies to every task, encoded once.
    static let lease = JSONKey("lease")
    static let workflowID = JSONKey("workflow_id")
    static let workflowName = JSONKey("workflow_name")
    static let taskID = JSONKey("task_id")
    static let handler = JSONKey("handler")
    static let attempt = JSONKey("attempt")
    static let input = JSONKey("input")
    static let deps = JSONKey("deps")
    static let workflowInput = JSONKey("workflow_input")
    static let deadline = JSONKey("deadline")
    static let created = JSONKey("created")
}

extension JSONWriter {
    /// A lease as its wire string `"L<number>"` (`LeaseID.description`), written without making the String.
    public mutating func lease(_ lease: LeaseID) {
        appendValue(capacity: 23) { out in
            out.append(ASCII.quote)
            out.append(UInt8(ascii: "L"))
            out.appendDecimal(lease.rawValue)
            out.append(ASCII.quote)
        }
    }
}

extension JSONWriter {
    /// One journal event as `workflow.history` shows it: `{seq, time, type, workflow_id, ...}`.
    public mutating func event(_ event: Event, seq: UInt64) {
        beginObject()
        key("seq")
        int(Int64(seq))
        key("time")
        time(event.time)
        key("type")
        string(event.typeName)
        key("workflow_id")
        string(event.workflowID.rawValue)
        switch event {
        case .workflowSubmitted(let spec, _):
            key("name")
            string(spec.name)
            key("tasks")
            int(Int64(spec.tasks.count))
        case .taskDispatched(_, let t, let lease, let worker, let kind, _):
            key("task_id")
            string(t.rawValue)
            key("lease")
            self.lease(lease)
            key("worker")
            string(worker)
            key("kind")
            string(["attempt", "poll", "revert"][Int(kind.rawValue)])
        case .taskCompleted(_, let t, let result, _):
            key("task_id")
            string(t.rawValue)
            key("result")
            raw(result)
        case .taskAttemptFailed(_, let t, let error, let retryAt, _):
            key("task_id")
            string(t.rawValue)
            key("error")
            taskError(error)
            key("retry_at")
            time(retryAt)
        case .taskRequeued(_, let t, _), .leaseReleased(_, let t, _), .pollAnswered(_, let t, _),
            .revertStarted(_, let t, _), .taskReverted(_, let t, _):
            key("task_id")
            string(t.rawValue)
        case .taskAwaiting(_, let t, let future, _):
            key("task_id")
            string(t.rawValue)
            key("future")
            self.future(future)
        case .tasksSpawned(_, let t, let tasks, let output, _):
            key("task_id")
            string(t.rawValue)
            key("spawned")
            beginArray()
            for task in tasks { string("\(t.rawValue)/\(task.id)") }
            endArray()
            key("output")
            string("\(t.rawValue)/\(output)")
        case .futureKept(let k, let outcome, _):
            key("key")
            string(k)
            switch outcome {
            case .resolved(let result):
                key("result")
                raw(result)
            case .rejected(let error):
                key("error")
                taskError(error)
            }
        case .futureUsed(let k, _), .futureExpired(let k, _):
            key("key")
            string(k)
        case .resolutionApplied(let k, let id, let matched, _):
            key("key")
            string(k)
            key("resolution_id")
            string(id)
            key("matched")
            int(Int64(matched))
        case .resolutionExpired(let k, let id, _):
            key("key")
            string(k)
            key("resolution_id")
            string(id)
        case .revertFailed(_, let t, let error, let retryAt, _):
            key("task_id")
            string(t.rawValue)
            key("error")
            taskError(error)
            key("retry_at")
            time(retryAt)
        case .workflowReverted: break
        case .workflowsCompacted(let ids, _):
            key("workflows")
            beginArray()
            for id in ids { string(id.rawValue) }
            endArray()
        case .taskProgressed(_, let t, let progress, _):
            key("task_id")
            string(t.rawValue)
            key("progress")
            raw(progress)
        case .workflowFailed(_, let t, let error, _):
            key("task_id")
            string(t.rawValue)
            key("error")
            taskError(error)
        case .workflowCancelled(_, let reason, let revert, _):
            key("reason")
            string(reason)
            key("revert")
            bool(revert)
        case .workflowCompleted, .workflowTimedOut, .workflowStarted, .workflowRestarted, .workflowPaused,
            .workflowResumed:
            break
        case .scheduleCreated(let spec, let next, _):
            key("schedule_id")
            string(spec.id)
            key("next_fire_at")
            time(next)
        case .scheduleDeleted(let id, _):
            key("schedule_id")
            string(id)
        case .schedulePaused(let id, let paused, let next, _):
            key("schedule_id")
            string(id)
            key("paused")
            bool(paused)
            key("next_fire_at")
            time(next)
        case .scheduleFired(let id, let scheduled, let run, let next, _):
            key("schedule_id")
            string(id)
            key("scheduled")
            time(scheduled)
            key("run")
            if let run { string(run.rawValue) } else { null() }
            key("next_fire_at")
            time(next)
        case .workflowFailing(_, let t, let error, _):
            key("task_id")
            string(t.rawValue)
            key("error")
            taskError(error)
        case .workflowRetrying(_, let retryAt, _):
            key("retry_at")
            time(retryAt)
        case .workflowRerun(_, let from, _):
            key("from")
            beginArray()
            for t in from { string(t.rawValue) }
            endArray()
        case .queuePaused(let queue, _), .queueResumed(let queue, _):
            key("queue")
            string(queue)
        case .limitSet(let k, let limit, _):
            key("limit")
            self.limit(key: k, limit, running: nil)
        case .limitDeleted(let k, _):
            key("key")
            string(k)
        }
        endObject()
    }

    /// A limit's record: `{key, concurrency, per_s, burst, running}` (bounds not set are null; `burst` as it
    /// applies); `running` left out when nil.
    public mutating func limit(key k: String, _ limit: Limit, running: Int?) {
        beginObject()
        key("key")
        string(k)
        key("concurrency")
        if let c = limit.concurrency { int(Int64(c)) } else { null() }
        key("per_s")
        if let r = limit.perSecond { double(r) } else { null() }
        key("burst")
        if let b = limit.burst ?? limit.perSecond { double(b) } else { null() }
        if let running {
            key("running")
            int(Int64(running))
        }
        endObject()
    }
}

extension JSONWriter {
    /// A future as `task.await` takes it.
    mutating func future(_ future: Future) {
        beginObject()
        switch future {
        case .key(let k, let timeout):
            key("key")
            string(k)
            if let timeout {
                key("timeout_s")
                double(timeout.seconds)
            }
        case .sleep(let d):
            key("sleep_s")
            double(d.seconds)
        case .poll(let handler, let input, let interval, let timeout):
            key("poll")
            beginObject()
            key("handler")
            string(handler)
            key("input")
            raw(input)
            key("interval_s")
            double(interval.seconds)
            endObject()
            if let timeout {
                key("timeout_s")
                double(timeout.seconds)
            }
        }
        endObject()
    }
}
