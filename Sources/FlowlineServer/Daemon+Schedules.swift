import FlowlineCore
import FlowlineProtocol
import FlowlineUV
import Logging

extension Daemon {
    /// `schedule.*`: a create first loads its zone's rules (the only file the schedules read), the rest go to the
    /// coordinator or read its state.
    func schedule(_ call: ScheduleCall, id: RPCID?, from c: WorkerID) {
        switch call {
        case .create(let spec):
            if coordinator.zones[spec.timezone] == nil, let rules = ZoneFiles.load(spec.timezone) {
                coordinator.zones[spec.timezone] = rules
            }
            handle(.createSchedule(spec, request: register(c, id)))
        case .act(let action, let schedule): handle(.schedule(action, id: schedule, request: register(c, id)))
        case .get(let schedule):
            guard let id else { return }
            let state = coordinator.state
            let reply: Reply =
                state.schedules[schedule].map { .schedule($0, running: $0.running(in: state)) }
                ?? .failure(.unknownSchedule(schedule))
            answer(RPCEncoder.reply(id: id, reply), to: c, request: id)
        case .list:
            guard let id else { return }
            let state = coordinator.state
            let answer = RPCEncoder.response(id: id) { w in
                w.beginObject()
                w.key("schedules")
                w.beginArray()
                for schedule in state.scheduleList { w.schedule(schedule, running: schedule.running(in: state)) }
                w.endArray()
                w.endObject()
            }
            self.answer(answer, to: c, request: id)
        }
    }

    /// Before `resume`: the rules of every zone a schedule names, so that catch-up and the next fires can be
    /// computed. A zone whose file is gone leaves its schedules without a next fire (logged).
    func loadScheduleZones() {
        for zone in Set(coordinator.state.schedules.values.map(\.spec.timezone)) where coordinator.zones[zone] == nil {
            if let rules = ZoneFiles.load(zone) {
                coordinator.zones[zone] = rules
            } else {
                logger.error("cannot read time zone", metadata: ["timezone": "\(zone)"])
            }
        }
    }
}

/// Reads zone rules from the tz database (`$TZDIR`, else `/usr/share/zoneinfo`).
enum ZoneFiles {
    static func load(_ name: String) -> ZoneRules? {
        if name == "UTC" { return .utc }
        // An IANA name: letters, digits, `_+-` and `/` between parts; never `..` or an absolute path.
        let allowed = name.utf8.allSatisfy { b in
            (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || (b >= 48 && b <= 57) || b == 95 || b == 43 || b == 45
                || b == 47
        }
        guard allowed, !name.hasPrefix("/"), !name.split(separator: "/").contains(where: { $0.hasPrefix(".") })
        else { return nil }
        let directory = LocalFile.environment("TZDIR") ?? "/usr/share/zoneinfo"
        guard let bytes = LocalFile.contents(of: directory + "/" + name) else { return nil }
        return ZoneRules(tzif: bytes, name: name)
    }
}
