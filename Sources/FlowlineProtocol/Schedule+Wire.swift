public import FlowlineCore

/// SPEC §11's schedule methods, decoded.
public enum ScheduleCall: Sendable {
    case create(ScheduleSpec)
    case get(String)
    case list
    case act(ScheduleAction, String)

    static let createFields = ["schedule_id", "cron", "timezone", "workflow", "overlap", "catchup", "paused"]
    static let idFields = ["schedule_id"]

    /// Decodes a `schedule.*` call, or nil for another method.
    static func decode(method: String, params: JSON) throws(RPCError) -> ScheduleCall? {
        switch method {
        case "schedule.create": return .create(try ScheduleSpec(wire: params))
        case "schedule.list":
            let p = try ParamReader(params)
            try p.onlyFields([])
            return .list
        case "schedule.get": return .get(try id(params))
        case "schedule.delete": return .act(.delete, try id(params))
        case "schedule.pause": return .act(.pause, try id(params))
        case "schedule.unpause": return .act(.unpause, try id(params))
        case "schedule.trigger": return .act(.trigger, try id(params))
        default: return nil
        }
    }

    private static func id(_ params: JSON) throws(RPCError) -> String {
        let p = try ParamReader(params)
        try p.onlyFields(idFields)
        return try p.requiredString("schedule_id")
    }
}

extension ScheduleSpec {
    /// Decodes `schedule.create`'s params. The cron expression is parsed here (-32602 at `cron`); the zone is
    /// looked up by the shell (-32602 at `timezone`), the template validated as a workflow document (-32602 at a path
    /// under `workflow`).
    public init(wire: JSON) throws(RPCError) {
        let p = try ParamReader(wire)
        try p.onlyFields(ScheduleCall.createFields)
        let id = try p.requiredString("schedule_id")
        // A run's id is `ID@TIME`: the id must leave room for the time within a workflow id's bound.
        guard !id.isEmpty, id.utf8.count <= SpecLimits.maxIDBytes - 32, !id.contains("@") else {
            throw RPCError.invalidParams(
                "must be 1 to \(SpecLimits.maxIDBytes - 32) bytes without '@'",
                path: "schedule_id"
            )
        }
        let cron = try p.requiredString("cron")
        do {
            _ = try CronExpression(parsing: cron)
        } catch {
            throw RPCError.invalidParams(error.message, path: "cron")
        }
        let timezone = try p.string("timezone") ?? "UTC"
        guard !timezone.isEmpty, timezone.utf8.count <= 128 else {
            throw RPCError.invalidParams("is not a time zone of the tz database", path: "timezone")
        }
        guard let document = p.object["workflow"] else { throw RPCError.invalidParams("is required", path: "workflow") }
        guard case .object = document else { throw RPCError.invalidParams("must be an object", path: "workflow") }
        var workflow: WorkflowSpec
        do {
            workflow = try WorkflowSpec(wire: document)
        } catch {
            // The document's own paths, under `workflow`.
            var message = error.message
            var path = "workflow"
            if case .object(let data)? = error.data, case .string(let inner)? = data["path"] {
                path = "workflow." + inner
                message = error.message
            }
            throw RPCError(code: error.code, message: message, data: .object(["path": .string(path)]))
        }
        if workflow.id != nil {
            throw RPCError.invalidParams("a schedule names its runs `SCHEDULE_ID@TIME`", path: "workflow.id")
        }
        workflow.id = nil
        func choice<T: RawRepresentable<String>>(_ key: String, _ all: [T], default value: T) throws(RPCError) -> T {
            guard let text = try p.string(key) else { return value }
            guard let chosen = all.first(where: { $0.rawValue == text }) else {
                throw RPCError.invalidParams("must be one of \(all.map(\.rawValue).joined(separator: ", "))", path: key)
            }
            return chosen
        }
        self.init(
            id: id,
            cron: cron,
            timezone: timezone,
            workflow: workflow,
            template: RawJSON(json: document),
            overlap: try choice("overlap", ScheduleOverlap.allCases, default: .skip),
            catchup: try choice("catchup", ScheduleCatchup.allCases, default: .one),
            paused: try p.bool("paused") ?? false
        )
    }
}

extension JSONWriter {
    /// The schedule record of SPEC §11; every field is always present.
    public mutating func schedule(_ s: Schedule, running: [WorkflowID]) {
        beginObject()
        key("schedule_id")
        string(s.spec.id)
        key("cron")
        string(s.spec.cron)
        key("timezone")
        string(s.spec.timezone)
        key("workflow")
        raw(s.spec.template)
        key("overlap")
        string(s.spec.overlap.rawValue)
        key("catchup")
        string(s.spec.catchup.rawValue)
        key("paused")
        bool(s.paused)
        key("next_fire_at")
        time(s.nextFireAt)
        key("last_fire_at")
        time(s.lastFireAt)
        key("running")
        beginArray()
        for id in running { string(id.rawValue) }
        endArray()
        endObject()
    }
}

extension RPCError {
    /// -32006: `schedule_id` already names a different definition; `data` is `{"schedule_id": id}`.
    public static func scheduleIDInUse(_ id: String) -> RPCError {
        RPCError(
            code: Code.idInUse,
            message: "Schedule id in use: '\(id)' names a different definition",
            data: .object(["schedule_id": .string(id)])
        )
    }
}

extension Instant {
    /// Parses RFC 3339 (`2026-12-08T09:00:00Z`, `2026-12-08T10:00:00.250+01:00`); nil if it is not that.
    public init?(rfc3339 text: String) {
        let b = Array(text.utf8)
        func digits(_ at: Int, _ n: Int) -> Int64? {
            guard at + n <= b.count else { return nil }
            var v: Int64 = 0
            for i in at..<at + n {
                guard b[i] >= 48 && b[i] <= 57 else { return nil }
                v = v * 10 + Int64(b[i] - 48)
            }
            return v
        }
        guard b.count >= 20, let year = digits(0, 4), b[4] == 45, let month = digits(5, 2), b[7] == 45,
            let day = digits(8, 2), b[10] == 84 || b[10] == 116 || b[10] == 32, let hour = digits(11, 2), b[13] == 58,
            let minute = digits(14, 2), b[16] == 58, let second = digits(17, 2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var i = 19
        var ms: Int64 = 0
        if i < b.count, b[i] == 46 {
            i += 1
            var scale: Int64 = 100
            let start = i
            while i < b.count, b[i] >= 48 && b[i] <= 57 {
                ms += Int64(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        guard i < b.count else { return nil }
        var offset: Int64 = 0
        if b[i] == 90 || b[i] == 122 {
            i += 1
        } else {
            guard b[i] == 43 || b[i] == 45, let oh = digits(i + 1, 2), b.count > i + 3, b[i + 3] == 58,
                let om = digits(i + 4, 2)
            else { return nil }
            offset = (oh * 3600 + om * 60) * (b[i] == 45 ? -1 : 1)
            i += 6
        }
        guard i == b.count else { return nil }
        self = Instant.utc(
            year: year,
            month: month,
            day: day,
            seconds: hour * 3600 + minute * 60 + min(second, 59) - offset,
            milliseconds: ms
        )
    }
}
