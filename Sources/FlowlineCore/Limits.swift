/// A limit key's bounds (`limit.set`, SPEC §11): at most `concurrency` runs of its tasks at once, and at most
/// `perSecond` dispatches a second with bursts of `burst`. A bound left nil does not hold anything back.
public struct Limit: Hashable, Sendable {
    public var concurrency: Int?
    public var perSecond: Double?
    public var burst: Double?

    public init(concurrency: Int? = nil, perSecond: Double? = nil, burst: Double? = nil) {
        self.concurrency = concurrency
        self.perSecond = perSecond
        self.burst = burst
    }

    /// The bucket's size: `burst`, by default `per_s`, and never under one token, or a rate under one a second
    /// (`per_s: 0.5`) would never fill a bucket far enough to dispatch.
    var capacity: Double { max(burst ?? perSecond ?? 1, 1) }
}

/// A rate limit's token bucket, as it stood at `at`.
struct TokenBucket: Hashable, Sendable {
    var tokens: Double
    var at: Instant

    /// The tokens at `now`, refilled at `rate` a second up to `capacity` since `at`.
    func tokens(at now: Instant, rate: Double, capacity: Double) -> Double {
        let elapsed = Double(max((now - at).milliseconds, 0)) / 1000
        return min(capacity, tokens + elapsed * rate)
    }
}

/// What holds one ready task back, for its record's `waiting_for` (SPEC §8, §11).
extension Coordinator {
    /// Why the queued task at `position` of `workflow` is not dispatched, or nil when nothing holds it but busy
    /// workers (or it is not queued).
    public func waitingFor(_ position: Int, of workflow: Workflow, at now: Instant) -> String? {
        let task = workflow.tasks[position]
        guard task.isQueued else { return nil }
        let queue = task.spec.queue
        if workflow.paused { return "workflow \(workflow.id.rawValue) is paused" }
        if state.pausedQueues.contains(queue) { return "queue \(queue) is paused" }
        for key in task.spec.limits {
            if let reason = state.limitHold(key, at: now) { return reason }
        }
        let handler = task.runHandler
        let offered = session.queueWorkers[queue]?.list.contains { id in
            guard let worker = session.workers[id] else { return false }
            return worker.handlers?.contains(handler) ?? true
        }
        if offered != true { return "no worker offers handler \(handler) on queue \(queue)" }
        return nil
    }

    /// The workflow as its record shows it: each queued task with what holds it back.
    public func record(_ w: WorkflowID, at now: Instant) -> Workflow? {
        guard var workflow = state.workflows[w] else { return nil }
        annotate(&workflow, at: now)
        return workflow
    }

    /// Sets `waitingFor` on the queued tasks of `workflow`.
    func annotate(_ workflow: inout Workflow, at now: Instant) {
        guard !workflow.state.isTerminal || workflow.state == .reverting else { return }
        for position in workflow.tasks.indices where workflow.tasks[position].isQueued {
            workflow.tasks[position].waitingFor = waitingFor(position, of: workflow, at: now)
        }
    }
}

/// The limits and their use, as one dispatch sees them: a copy (retains only), so that the test of a lane can run
/// while the ready queues, beside them in the state, are changed.
struct LimitView {
    var limits: [String: Limit]
    var limitRunning: [String: Int]
    var buckets: [String: TokenBucket]

    /// Why `key` holds its tasks back at `now`, or nil when it has a free slot and a token.
    func limitHold(_ key: String, at now: Instant) -> String? {
        guard let limit = limits[key] else { return nil }
        if let concurrency = limit.concurrency {
            if concurrency == 0 { return "limit \(key) has concurrency 0" }
            let running = limitRunning[key] ?? 0
            if running >= concurrency { return "limit \(key): \(running) of \(concurrency) running" }
        }
        if let rate = limit.perSecond {
            let tokens = buckets[key]?.tokens(at: now, rate: rate, capacity: limit.capacity) ?? limit.capacity
            if tokens < 1 { return "limit \(key): rate \(rate)/s" }
        }
        return nil
    }

    /// True when every key of `keys` has a free slot and a token at `now`.
    func allow(_ keys: [String], at now: Instant) -> Bool {
        for key in keys where limits[key] != nil {
            if limitHold(key, at: now) != nil { return false }
        }
        return true
    }
}

extension CoordinatorState {
    var limitView: LimitView { LimitView(limits: limits, limitRunning: limitRunning, buckets: buckets) }

    func limitHold(_ key: String, at now: Instant) -> String? { limitView.limitHold(key, at: now) }

    /// When `key`'s bucket next holds a whole token, if a rate is what holds it back at `now`.
    func nextToken(_ key: String, at now: Instant) -> Instant? {
        guard let limit = limits[key], let rate = limit.perSecond, rate > 0 else { return nil }
        let tokens = buckets[key]?.tokens(at: now, rate: rate, capacity: limit.capacity) ?? limit.capacity
        guard tokens < 1 else { return nil }
        return now + .milliseconds(Int64(((1 - tokens) / rate * 1000).rounded(.up)))
    }

    /// A run of a task under `keys` began (+1) or ended (-1) at `at`: the keys' running counts follow, and a
    /// dispatch takes a token from each rate-limited key.
    mutating func countLimits(_ keys: [String], _ delta: Int, at: Instant) {
        for key in keys {
            let running = (limitRunning[key] ?? 0) + delta
            limitRunning[key] = running > 0 ? running : nil
            guard delta > 0, let limit = limits[key], let rate = limit.perSecond else { continue }
            let tokens = buckets[key]?.tokens(at: at, rate: rate, capacity: limit.capacity) ?? limit.capacity
            buckets[key] = TokenBucket(tokens: tokens - 1, at: at)
        }
        if delta < 0 && !limits.isEmpty { limitsFreed = true }
    }
}

extension TaskRecord {
    /// The handler the task's next run calls: a poll's, a revert's, or the task's own.
    var runHandler: String {
        switch state {
        case .waiting:
            if case .poll(let handler, _, _, _) = awaiting { return handler }
            return spec.handler
        case .reverting: return spec.revert ?? spec.handler
        default: return spec.handler
        }
    }

    /// The lane the task's queue entry goes in.
    var laneKey: LaneKey { LaneKey(handler: runHandler, limits: spec.limits, fairness: spec.fairnessKey) }
}
