public import FlowlineCore

/// `hello`'s params.
public struct Hello: Sendable, Equatable {
    public enum Role: String, Sendable { case client, worker, admin }
    public var role: Role
    public var name: String
    public var token: String?
    public var queues: [String]
    public var concurrency: Int
    /// The only handlers a worker runs (SPEC §8); nil for any.
    public var handlers: [String]? = nil
}

/// `workflow.list`'s params.
public struct ListQuery: Sendable, Equatable {
    public var state: WorkflowState?
    public var name: String?
    public var limit: Int
    public var after: String?
    /// Pairs a listed workflow's `metadata` must all have.
    public var metadata: [MetadataEntry] = []

    /// The part of the query that picks workflows.
    public var filter: WorkflowFilter { WorkflowFilter(state: state, name: name, metadata: metadata) }
}

/// One decoded request or notification, its params checked (SPEC §3).
public enum Call: Sendable {
    case hello(Hello)
    case submit(WorkflowSpec)
    case get(WorkflowID)
    case list(ListQuery)
    case wait(WorkflowID, timeout: Duration?)
    case cancel(WorkflowID, reason: String, revert: Bool)
    case history(WorkflowID)
    case rerun(WorkflowID, from: [TaskID])
    /// A worker reads a completed task's result of the workflow it runs a task of.
    case taskResult(LeaseID?, TaskID)
    case cancelMany(WorkflowFilter)
    case rerunMany(WorkflowFilter)
    /// A lease string that is not one of ours decodes as nil: it is answered -32003, like any stale lease.
    case complete(LeaseID?, result: RawJSON, poll: PollAnswer?)
    case await(LeaseID?, Future)
    case spawn(LeaseID?, tasks: [TaskSpec], output: String)
    case resolve(key: String, FutureOutcome, resolutionID: String?)
    case release(LeaseID?)
    case quiet
    case fail(LeaseID?, TaskError)
    case heartbeat(LeaseID?, progress: RawJSON?)
    case workersList
    case stats
    /// SPEC §11's `schedule.*` methods.
    case schedule(ScheduleCall)
    /// `workflow.pause` (`paused`) or `workflow.resume`.
    case pauseWorkflow(WorkflowID, paused: Bool)
    /// `queue.pause` (`paused`) or `queue.resume`.
    case pauseQueue(String, paused: Bool)
    case setLimit(key: String, Limit)
    case getLimit(key: String)
    case listLimits
    case deleteLimit(key: String)

    /// Bounds on what a peer may ask for.
    public enum Limits {
        public static let maxConcurrency: Int64 = 10_000
        public static let maxListLimit: Int64 = 1000
        public static let maxQueues = 100
    }

    /// Decodes `params` for `method`; an unknown method is -32601, bad params -32602 with the field's path.
    public static func decode(method: String, params: JSON) throws(RPCError) -> Call {
        switch method {
        case "workflow.submit": return .submit(try WorkflowSpec(wire: params))
        case "task.complete":
            let p = try ParamReader(params)
            try p.onlyFields(Fields.complete)
            let result = p.object["result"]
            return .complete(try lease(p), result: result.map { RawJSON(json: $0) } ?? .null, poll: pollAnswer(result))
        case "task.await":
            let p = try ParamReader(params)
            try p.onlyFields(Fields.awaitFuture)
            guard let future = try p.object("future") else {
                throw RPCError.invalidParams("is required", path: "future")
            }
            return .await(try lease(p), try Self.future(future))
        case "task.spawn":
            let p = try ParamReader(params)
            try p.onlyFields(Fields.spawn)
            let tasks = try p.array("tasks") ?? []
            var specs: [TaskSpec] = []
            for (i, task) in tasks.enumerated() { specs.append(try TaskSpec(wire: task, element: i, of: "tasks")) }
            return .spawn(try lease(p), tasks: specs, output: try p.requiredString("output"))
        case "future.resolve":
            let p = try ParamReader(params)
            try p.onlyFields(Fields.resolve)
            return .resolve(
                key: try futureKey(p),
                .resolved(p.raw("result", default: .null) ?? .null),
                resolutionID: try resolutionID(p)
            )
        case "future.reject":
            let p = try ParamReader(params)
            try p.onlyFields(Fields.reject)
            return .resolve(key: try futureKey(p), .rejected(try rejection(p)), resolutionID: try resolutionID(p))
        case "task.fail":
            let p = try ParamReader(params)
            try p.onlyFields(Fields.fail)
            return .fail(try lease(p), try taskError(p))
        case "task.heartbeat":
            let p = try ParamReader(params)
            try p.onlyFields(Fields.heartbeat)
            if let progress = p.object["progress"] {
                switch progress {
                case .int, .double, .string, .null: break
                case .raw(let text) where text.isNumberOrString: break
                default: throw RPCError.invalidParams("must be a number or a string", path: "progress")
                }
            }
            return .heartbeat(try lease(p), progress: p.has("progress") ? p.raw("progress") : nil)
        case "workflow.get": return .get(try workflowID(params, only: Fields.workflowID))
        case "workflow.history": return .history(try workflowID(params, only: Fields.workflowID))
        case "workflow.wait":
            let p = try ParamReader(params)
            try p.onlyFields(Fields.wait)
            return .wait(try workflowID(params), timeout: try p.seconds("timeout_s"))
        case "workflow.cancel":
            let p = try ParamReader(params)
            try p.onlyFields(Fields.cancel)
            return .cancel(
                try workflowID(params),
                reason: try p.string("reason") ?? "cancelled",
                revert: try p.bool("revert") ?? false
            )
        case "workflow.list": return .list(try listQuery(params))
        case "workflow.rerun":
            let p = try ParamReader(params)
            try p.onlyFields(Fields.rerun)
            return .rerun(try workflowID(params), from: (try p.strings("from") ?? []).map(TaskID.init))
        case "task.result":
            let p = try ParamReader(params)
            try p.onlyFields(Fields.taskResult)
            return .taskResult(try lease(p), TaskID(try p.requiredString("task_id")))
        case "workflow.cancel_many": return .cancelMany(try bulkFilter(params))
        case "workflow.rerun_many": return .rerunMany(try bulkFilter(params))
        case "hello": return .hello(try hello(params))
        case "workers.list": return .workersList
        case "task.release":
            let p = try ParamReader(params)
            try p.onlyFields(Fields.release)
            return .release(try lease(p))
        case "worker.quiet": return .quiet
        case "stats": return .stats
        case "workflow.pause": return .pauseWorkflow(try workflowID(params, only: Fields.workflowID), paused: true)
        case "workflow.resume": return .pauseWorkflow(try workflowID(params, only: Fields.workflowID), paused: false)
        case "queue.pause": return .pauseQueue(try queueName(params), paused: true)
        case "queue.resume": return .pauseQueue(try queueName(params), paused: false)
        case "limit.set": return try limitSet(params)
        case "limit.get": return .getLimit(key: try limitKey(params, only: Fields.limitKey))
        case "limit.delete": return .deleteLimit(key: try limitKey(params, only: Fields.limitKey))
        case "limit.list":
            try ParamReader(params).onlyFields([])
            return .listLimits
        default:
            if let call = try ScheduleCall.decode(method: method, params: params) { return .schedule(call) }
            throw RPCError.methodNotFound(method)
        }
    }

    /// The params each method takes (SPEC §3), made once rather than per call: unknown ones are -32602.
    private enum Fields {
        static let poll = ["handler", "input", "interval_s"]
        static let reject = ["key", "error", "resolution_id"]
        static let resolve = ["key", "result", "resolution_id"]
        static let future = ["key", "timeout_s", "sleep_s", "poll"]
        static let release = ["lease"]
        static let fail = ["lease", "error"]
        static let awaitFuture = ["lease", "future"]
        static let heartbeat = ["lease", "progress"]
        static let complete = ["lease", "result"]
        static let spawn = ["lease", "tasks", "output"]
        static let list = ["state", "name", "limit", "after", "metadata"]
        static let rerun = ["workflow_id", "from"]
        static let taskResult = ["lease", "task_id"]
        static let bulk = ["state", "name", "metadata"]
        static let workflowID = ["workflow_id"]
        static let cancel = ["workflow_id", "reason", "revert"]
        static let wait = ["workflow_id", "timeout_s"]
        static let queue = ["queue"]
        static let limitKey = ["key"]
        static let limitSet = ["key", "concurrency", "per_s", "burst"]
    }

    private static func queueName(_ params: JSON) throws(RPCError) -> String {
        let p = try ParamReader(params)
        try p.onlyFields(Fields.queue)
        let queue = try p.requiredString("queue")
        guard !queue.isEmpty, SpecLimits.fits(queue) else {
            throw RPCError.invalidParams("must be 1 to \(SpecLimits.maxNameBytes) bytes", path: "queue")
        }
        return queue
    }

    private static func limitKey(_ params: JSON, only fields: [String]) throws(RPCError) -> String {
        let p = try ParamReader(params)
        try p.onlyFields(fields)
        let key = try p.requiredString("key")
        guard !key.isEmpty, SpecLimits.fits(key) else {
            throw RPCError.invalidParams("must be 1 to \(SpecLimits.maxNameBytes) bytes", path: "key")
        }
        return key
    }

    /// `limit.set {key, concurrency?, per_s?, burst?}`: `concurrency` ≥ 0, `per_s` > 0, `burst` ≥ 1 (a bucket
    /// that never holds a whole token would hold its tasks for ever).
    private static func limitSet(_ params: JSON) throws(RPCError) -> Call {
        let key = try limitKey(params, only: Fields.limitSet)
        let p = try ParamReader(params)
        let concurrency = try p.int("concurrency", in: 0...1_000_000_000).map { Int($0) }
        let rate = try p.number("per_s")
        if let rate, !(rate > 0 && rate <= 1e9) {
            throw RPCError.invalidParams("must be a number above 0 (at most 1e9)", path: "per_s")
        }
        let burst = try p.number("burst")
        if let burst {
            guard burst >= 1 && burst <= 1e9 else {
                throw RPCError.invalidParams("must be a number from 1 to 1e9", path: "burst")
            }
            guard rate != nil else { throw RPCError.invalidParams("needs per_s", path: "burst") }
        }
        return .setLimit(key: key, Limit(concurrency: concurrency, perSecond: rate, burst: burst))
    }

    private static func lease(_ p: ParamReader) throws(RPCError) -> LeaseID? {
        LeaseID(wire: try p.requiredString("lease"))
    }

    private static func futureKey(_ p: ParamReader) throws(RPCError) -> String {
        let key = try p.requiredString("key")
        guard !key.isEmpty, SpecLimits.fits(key) else {
            throw RPCError.invalidParams("must be 1 to \(SpecLimits.maxNameBytes) bytes", path: "key")
        }
        return key
    }

    /// A resolution's optional `resolution_id` (SPEC §8): any string of 1 to 1,024 bytes, like a key.
    private static func resolutionID(_ p: ParamReader) throws(RPCError) -> String? {
        guard let id = try p.string("resolution_id") else { return nil }
        guard !id.isEmpty, SpecLimits.fits(id) else {
            throw RPCError.invalidParams("must be 1 to \(SpecLimits.maxNameBytes) bytes", path: "resolution_id")
        }
        return id
    }

    /// `{"done": false}` or `{"done": true, "result": X}`; anything else is no poll answer.
    private static func pollAnswer(_ result: JSON?) -> PollAnswer? {
        var result = result
        // A result kept as text is read again only when it could be a poll answer: an object with a "done" key.
        if case .raw(let text)? = result {
            guard text.bytes.first == ASCII.openBrace, text.bytes.contains(subsequence: doneKey),
                let parsed = try? JSONParser.parse(text.bytes, keepingPayloadsFrom: 1)
            else { return nil }
            result = parsed
        }
        guard case .object(let answer)? = result, case .bool(let done)? = answer["done"] else { return nil }
        return PollAnswer(done: done, result: answer["result"].map { RawJSON(json: $0) } ?? .null)
    }

    private static let doneKey = Array(#""done""#.utf8)

    private static func rejection(_ p: ParamReader) throws(RPCError) -> TaskError {
        switch p.object["error"] {
        case .string(let message)?: return TaskError(type: "rejected", message: message)
        case .object?:
            let e = try ParamReader(p.object["error"] ?? .null, path: "error")
            return TaskError(
                type: try e.string("type") ?? "rejected",
                message: try e.string("message") ?? "",
                retryable: try e.bool("retryable") ?? true,
                data: e.raw("data")
            )
        default: throw RPCError.invalidParams("must be a string or {type, message, retryable}", path: "error")
        }
    }

    private static func future(_ f: ParamReader) throws(RPCError) -> Future {
        try f.onlyFields(Fields.future)
        if let key = try f.string("key") {
            guard !key.isEmpty, SpecLimits.fits(key) else {
                throw RPCError.invalidParams("must be 1 to \(SpecLimits.maxNameBytes) bytes", path: "future.key")
            }
            return .key(key, timeout: try f.seconds("timeout_s"))
        }
        if let sleep = try f.seconds("sleep_s") { return .sleep(sleep) }
        if let poll = try f.object("poll") {
            try poll.onlyFields(Fields.poll)
            let handler = try poll.requiredString("handler")
            guard !handler.isEmpty, SpecLimits.fits(handler) else {
                throw RPCError.invalidParams(
                    "must be 1 to \(SpecLimits.maxNameBytes) bytes",
                    path: "future.poll.handler"
                )
            }
            return .poll(
                handler: handler,
                input: poll.raw("input", default: .emptyObject) ?? .emptyObject,
                interval: try poll.seconds("interval_s") ?? .seconds(10),
                timeout: try f.seconds("timeout_s")
            )
        }
        throw RPCError.invalidParams("must have key, sleep_s or poll", path: "future")
    }

    private static func workflowID(_ params: JSON, only fields: [String]? = nil) throws(RPCError) -> WorkflowID {
        let p = try ParamReader(params)
        if let fields { try p.onlyFields(fields) }
        return WorkflowID(try p.requiredString("workflow_id"))
    }

    private static func taskError(_ p: ParamReader) throws(RPCError) -> TaskError {
        guard let e = try p.object("error") else { throw RPCError.invalidParams("is required", path: "error") }
        return TaskError(
            type: try e.string("type") ?? "error",
            message: try e.string("message") ?? "",
            retryable: try e.bool("retryable") ?? true,
            data: e.raw("data")
        )
    }

    private static func listQuery(_ params: JSON) throws(RPCError) -> ListQuery {
        let p = try ParamReader(params)
        try p.onlyFields(Fields.list)
        let filter = try filter(p)
        return ListQuery(
            state: filter.state,
            name: filter.name,
            limit: try p.int("limit", in: 1...Limits.maxListLimit) ?? 100,
            after: try p.string("after"),
            metadata: filter.metadata
        )
    }

    /// `{state?, name?, metadata?}`: what picks workflows in a list or a bulk operation.
    private static func filter(_ p: ParamReader) throws(RPCError) -> WorkflowFilter {
        var state: WorkflowState?
        if let s = try p.string("state") {
            guard let parsed = WorkflowState(rawValue: s) else {
                throw RPCError.invalidParams("is not a workflow state", path: "state")
            }
            state = parsed
        }
        var metadata: [MetadataEntry] = []
        if let m = try p.object("metadata") {
            for (key, value) in m.object {
                guard case .string(let text) = value else {
                    throw RPCError.invalidParams("must be a string", path: m.pathOf(key))
                }
                metadata.append(MetadataEntry(key: key, value: text))
            }
        }
        return WorkflowFilter(state: state, name: try p.string("name"), metadata: metadata)
    }

    /// A bulk operation's filter: an empty one is refused, so that nothing acts on every workflow by accident.
    private static func bulkFilter(_ params: JSON) throws(RPCError) -> WorkflowFilter {
        let p = try ParamReader(params)
        try p.onlyFields(Fields.bulk)
        let filter = try filter(p)
        guard !filter.isEmpty else {
            throw RPCError.invalidParams(
                "give state, name or metadata: an empty filter would match everything",
                path: "state"
            )
        }
        return filter
    }

    private static func hello(_ params: JSON) throws(RPCError) -> Hello {
        let p = try ParamReader(params)
        guard let role = Hello.Role(rawValue: try p.string("role") ?? "client") else {
            throw RPCError.invalidParams("must be client, worker or admin", path: "role")
        }
        if let protocolVersion = try p.int("protocol", in: 0...Int64.max), protocolVersion != 1 {
            throw RPCError.invalidParams("this daemon speaks protocol 1", path: "protocol")
        }
        let queues = try p.strings("queues") ?? ["default"]
        guard queues.count <= Limits.maxQueues, !queues.contains(where: \.isEmpty) else {
            throw RPCError.invalidParams("1 to \(Limits.maxQueues) non-empty queue names", path: "queues")
        }
        // A worker's name is journaled with every task it starts, and its queues index the dispatch tables.
        if let long = queues.firstIndex(where: { !SpecLimits.fits($0) }) {
            throw RPCError.invalidParams("must be 1 to \(SpecLimits.maxNameBytes) bytes", path: "queues[\(long)]")
        }
        let name = try p.string("name") ?? role.rawValue
        guard SpecLimits.fits(name) else {
            throw RPCError.invalidParams("must be at most \(SpecLimits.maxNameBytes) bytes", path: "name")
        }
        let handlers = try p.strings("handlers")
        if let handlers {
            guard !handlers.isEmpty else { throw RPCError.invalidParams("must not be empty", path: "handlers") }
            if let bad = handlers.firstIndex(where: { $0.isEmpty || !SpecLimits.fits($0) }) {
                throw RPCError.invalidParams(
                    "must be 1 to \(SpecLimits.maxNameBytes) bytes",
                    path: "handlers[\(bad)]"
                )
            }
        }
        return Hello(
            role: role,
            name: name,
            token: try p.string("token"),
            queues: queues,
            concurrency: try p.int("concurrency", in: 1...Limits.maxConcurrency) ?? 1,
            handlers: handlers
        )
    }
}
