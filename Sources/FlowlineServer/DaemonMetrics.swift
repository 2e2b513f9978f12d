import FlowlineCore
import FlowlineHTTP
import FlowlineJournal
import FlowlineUV
import Glibc

/// How an attempt (or a poll or revert run) ended, as `flowline_tasks_finished_total` labels it (SPEC §10).
enum RunOutcome: Int, CaseIterable {
    case completed, failed, timedOut, workerLost, cancelled, released

    var label: String {
        switch self {
        case .completed: "completed"
        case .failed: "failed"
        case .timedOut: "timed_out"
        case .workerLost: "worker_lost"
        case .cancelled: "cancelled"
        case .released: "released"
        }
    }
}

/// The counters and histograms of one queue since the daemon started.
struct QueueMetrics {
    var dispatched: UInt64 = 0
    var finished = [UInt64](repeating: 0, count: RunOutcome.allCases.count)
    var wait = Histogram(bounds: Histogram.taskSeconds)
    var run = Histogram(bounds: Histogram.taskSeconds)
}

/// What `/metrics` counts beyond the state itself. Updated once per committed event that starts or ends a run:
/// a look-up of the task (a hash of its workflow id) and a few increments.
struct DaemonMetrics {
    var queues: [String: QueueMetrics] = [:]
    var commit = Histogram(bounds: Histogram.commitSeconds)
    /// HTTP requests answered, for the curious.
    var httpRequests: UInt64 = 0

    /// Monotonic nanoseconds, for timing commits.
    static func nanoseconds() -> UInt64 {
        var ts = timespec()
        unsafe clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}

extension Daemon {
    /// Counts the runs the turn's events start and end; called with the turn's events before they are committed.
    func observeMetrics(_ events: [Event]) {
        for event in events {
            switch event {
            case .taskDispatched(let w, let t, _, _, let kind, let at):
                guard let timing = coordinator.timing(of: w, t) else { continue }
                metrics.queues[timing.queue, default: QueueMetrics()].dispatched += 1
                if kind == .attempt, let ready = timing.scheduledAt {
                    metrics.queues[timing.queue, default: QueueMetrics()].wait.observe(
                        Self.seconds(from: ready, to: at)
                    )
                }
            case .taskCompleted(let w, let t, _, let at), .taskAwaiting(let w, let t, _, let at),
                .tasksSpawned(let w, let t, _, _, let at), .pollAnswered(let w, let t, let at),
                .taskReverted(let w, let t, let at):
                countEnd(w, t, .completed, at: at)
            case .taskAttemptFailed(let w, let t, let error, _, let at),
                .revertFailed(let w, let t, let error, _, let at):
                let outcome: RunOutcome =
                    switch error.type {
                    case "timeout": .timedOut
                    case "worker_lost": .workerLost
                    default: .failed
                    }
                countEnd(w, t, outcome, at: at)
            case .leaseReleased(let w, let t, let at):
                countEnd(w, t, .released, at: at)
            default:
                continue
            }
        }
    }

    /// A `task.cancel` sent for a run its workflow's end cut short (a timeout's or a lost worker's cancel is
    /// counted by the failure it comes with).
    func observeCancel(_ w: WorkflowID, _ t: TaskID, reason: String) {
        guard reason.hasPrefix("workflow ") else { return }
        countEnd(w, t, .cancelled, at: Clock.now())
    }

    /// A journal commit that took from `start` (`DaemonMetrics.nanoseconds()`) until now.
    func observeCommit(since start: UInt64) {
        metrics.commit.observe(Double(DaemonMetrics.nanoseconds() &- start) / 1e9)
    }

    private func countEnd(_ w: WorkflowID, _ t: TaskID, _ outcome: RunOutcome, at: Instant) {
        guard let timing = coordinator.timing(of: w, t) else { return }
        metrics.queues[timing.queue, default: QueueMetrics()].finished[outcome.rawValue] += 1
        if let started = timing.startedAt {
            metrics.queues[timing.queue, default: QueueMetrics()].run.observe(Self.seconds(from: started, to: at))
        }
    }

    private static func seconds(from a: Instant, to b: Instant) -> Double {
        Double(max(0, b.milliseconds - a.milliseconds)) / 1000
    }
}

extension Daemon {
    /// The `/metrics` page (SPEC §10): the state's counts, read where the core keeps them, the queues walked once,
    /// the counters above, and the process's figures from /proc.
    func metricsText() -> String {
        var p = PrometheusText()
        let workflows = coordinator.state.workflowCounts
        p.family("flowline_workflows", "gauge", help: "Workflows held, by state.")
        for state in WorkflowState.allCases {
            p.sample("flowline_workflows", [("state", state.rawValue)], workflows[state])
        }
        let tasks = coordinator.state.taskCounts
        p.family("flowline_tasks", "gauge", help: "Tasks of the workflows held, by state.")
        for state in TaskState.allCases { p.sample("flowline_tasks", [("state", state.rawValue)], tasks[state]) }

        let now = Clock.now()
        let facts = coordinator.queueFacts()
        // Every queue seen, in the state or in the counters, appears in each family.
        let names = Set(facts.map(\.queue)).union(metrics.queues.keys).sorted()
        let byName = Dictionary(facts.map { ($0.queue, $0) }, uniquingKeysWith: { a, _ in a })
        p.family("flowline_queue_ready", "gauge", help: "Tasks ready and waiting for a worker, by queue.")
        for name in names { p.sample("flowline_queue_ready", [("queue", name)], byName[name]?.ready ?? 0) }
        p.family(
            "flowline_queue_oldest_ready_seconds",
            "gauge",
            help: "How long the task that has waited longest in the queue has been ready (0 when none is)."
        )
        for name in names {
            let oldest = byName[name]?.oldestReadyAt.map { Double(max(0, now.milliseconds - $0.milliseconds)) / 1000 }
            p.sample("flowline_queue_oldest_ready_seconds", [("queue", name)], oldest ?? 0)
        }
        p.family(
            "flowline_tasks_dispatched_total",
            "counter",
            help: "Runs (attempts, polls, reverts) leased to workers."
        )
        for name in names {
            p.sample(
                "flowline_tasks_dispatched_total",
                [("queue", name)],
                Double(metrics.queues[name]?.dispatched ?? 0)
            )
        }
        p.family("flowline_tasks_finished_total", "counter", help: "Runs that ended, by queue and outcome.")
        for name in names {
            for outcome in RunOutcome.allCases {
                let count = metrics.queues[name]?.finished[outcome.rawValue] ?? 0
                p.sample("flowline_tasks_finished_total", [("queue", name), ("outcome", outcome.label)], Double(count))
            }
        }
        let empty = QueueMetrics()
        p.family("flowline_task_wait_seconds", "histogram", help: "From ready to dispatched, per attempt.")
        for name in names {
            p.histogram("flowline_task_wait_seconds", [("queue", name)], (metrics.queues[name] ?? empty).wait)
        }
        p.family("flowline_task_run_seconds", "histogram", help: "From dispatched to the run's outcome.")
        for name in names {
            p.histogram("flowline_task_run_seconds", [("queue", name)], (metrics.queues[name] ?? empty).run)
        }

        p.family(
            "flowline_journal_commit_seconds",
            "histogram",
            help: "Journal commits (one per loop turn that changed anything)."
        )
        p.histogram("flowline_journal_commit_seconds", [], metrics.commit)
        p.family("flowline_journal_bytes", "gauge", help: "Size of the journal's data file.")
        p.sample("flowline_journal_bytes", [], (try? journal.stats())?.fileBytes ?? 0)
        p.family("flowline_journal_full", "gauge", help: "1 while the journal refuses writes for lack of space.")
        p.sample("flowline_journal_full", [], journalFull ? 1 : 0)
        p.family("flowline_workers", "gauge", help: "Workers connected (said hello as a worker).")
        p.sample("flowline_workers", [], coordinator.workers.count)
        p.family("flowline_connections", "gauge", help: "Open JSON-RPC connections.")
        p.sample("flowline_connections", [], connections.count)
        p.family("flowline_http_connections", "gauge", help: "Open HTTP connections.")
        p.sample("flowline_http_connections", [], http.clients.count)
        p.family("flowline_futures_kept", "gauge", help: "Future resolutions kept for a later await.")
        p.sample("flowline_futures_kept", [], coordinator.state.keptFutures.count)

        let process = ProcessStats.current()
        p.family("process_cpu_seconds_total", "counter", help: "Total user and system CPU time spent in seconds.")
        p.sample("process_cpu_seconds_total", [], process.cpuSeconds)
        p.family("process_resident_memory_bytes", "gauge", help: "Resident memory size in bytes.")
        p.sample("process_resident_memory_bytes", [], process.residentBytes)
        p.family("process_virtual_memory_bytes", "gauge", help: "Virtual memory size in bytes.")
        p.sample("process_virtual_memory_bytes", [], process.virtualBytes)
        p.family("process_open_fds", "gauge", help: "Number of open file descriptors.")
        p.sample("process_open_fds", [], process.openFiles)
        p.family("process_max_fds", "gauge", help: "Maximum number of open file descriptors.")
        p.sample("process_max_fds", [], process.maxFiles)
        p.family("process_start_time_seconds", "gauge", help: "Start time of the process since unix epoch in seconds.")
        p.sample("process_start_time_seconds", [], process.startTime)
        return p.text
    }
}
