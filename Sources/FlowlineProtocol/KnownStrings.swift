/// The keys (and a few values) of nearly every protocol message, recognised by their bytes so that parsing one
/// returns a string constant instead of validating and copying a new `String`.
///
/// A string of 1 to 16 bytes is packed into two words: its first eight bytes big-endian into `lo`, the rest into
/// `hi`. Unescaped JSON strings never hold a NUL byte, so the packing is unambiguous. The `switch` is a compiled
/// search with no table to load; its constants are the packed forms of `all`, which a test checks.
enum KnownStrings {
    /// Every string `match` recognises.
    static let all: [String] = [
        "jsonrpc",
        "2.0",
        "id",
        "method",
        "params",
        "result",
        "error",
        "code",
        "message",
        "data",
        "hello",
        "role",
        "name",
        "protocol",
        "token",
        "worker",
        "queues",
        "queue",
        "concurrency",
        "default",
        "lease",
        "task_id",
        "workflow_id",
        "workflow_name",
        "workflow_input",
        "handler",
        "input",
        "output",
        "deps",
        "attempt",
        "attempts",
        "max_attempts",
        "backoff_s",
        "max_backoff_s",
        "retry",
        "retryable",
        "retry_at",
        "timeout_s",
        "heartbeat_s",
        "deadline",
        "priority",
        "revert",
        "progress",
        "reason",
        "kind",
        "key",
        "poll",
        "future",
        "interval_s",
        "sleep_s",
        "spawned",
        "tasks",
        "type",
        "time",
        "seq",
        "state",
        "created",
        "created_at",
        "started_at",
        "finished_at",
        "scheduled_at",
        "workflows",
        "running",
        "limit",
        "after",
        "next",
        "matched",
        "wait",
        "task.run",
        "task.complete",
        "task.fail",
        "task.heartbeat",
        "task.release",
        "task.spawn",
        "task.await",
        "task.cancel",
        "worker.quiet",
        "workflow.get",
        "workflow.list",
        "workflow.wait",
        "stats",
        "workflow.submit",
        "completed",
        "failed",
        "cancelled",
        "ok",
        "done",
    ]

    /// The constant equal to the bytes in `range`, if they are one of `all`, and its position in `all`.
    static func match(_ s: Span<UInt8>, _ range: Range<Int>) -> (string: String, ordinal: Int)? {
        var packed = PackedBytes()
        for i in range { packed.append(s[i]) }
        return match(packed)
    }

    /// The constant whose bytes were packed into `packed`, if it is one of `all`, and its position in `all`.
    static func match(_ packed: PackedBytes) -> (string: String, ordinal: Int)? {
        guard packed.count > 0 && packed.count <= 16 else { return nil }
        let lo = packed.lo
        let hi = packed.hi
        switch lo {
        case 0x6964: return hi == 0 ? ("id", 2) : nil
        case 0x6F6B: return hi == 0 ? ("ok", 85) : nil
        case 0x32_2E30: return hi == 0 ? ("2.0", 1) : nil
        case 0x6B_6579: return hi == 0 ? ("key", 45) : nil
        case 0x73_6571: return hi == 0 ? ("seq", 54) : nil
        case 0x636F_6465: return hi == 0 ? ("code", 7) : nil
        case 0x6461_7461: return hi == 0 ? ("data", 9) : nil
        case 0x6465_7073: return hi == 0 ? ("deps", 28) : nil
        case 0x646F_6E65: return hi == 0 ? ("done", 86) : nil
        case 0x6B69_6E64: return hi == 0 ? ("kind", 44) : nil
        case 0x6E61_6D65: return hi == 0 ? ("name", 12) : nil
        case 0x6E65_7874: return hi == 0 ? ("next", 65) : nil
        case 0x706F_6C6C: return hi == 0 ? ("poll", 46) : nil
        case 0x726F_6C65: return hi == 0 ? ("role", 11) : nil
        case 0x7469_6D65: return hi == 0 ? ("time", 53) : nil
        case 0x7479_7065: return hi == 0 ? ("type", 52) : nil
        case 0x7761_6974: return hi == 0 ? ("wait", 67) : nil
        case 0x61_6674_6572: return hi == 0 ? ("after", 64) : nil
        case 0x65_7272_6F72: return hi == 0 ? ("error", 6) : nil
        case 0x68_656C_6C6F: return hi == 0 ? ("hello", 10) : nil
        case 0x69_6E70_7574: return hi == 0 ? ("input", 26) : nil
        case 0x6C_6561_7365: return hi == 0 ? ("lease", 20) : nil
        case 0x6C_696D_6974: return hi == 0 ? ("limit", 63) : nil
        case 0x71_7565_7565: return hi == 0 ? ("queue", 17) : nil
        case 0x72_6574_7279: return hi == 0 ? ("retry", 34) : nil
        case 0x73_7461_7465: return hi == 0 ? ("state", 55) : nil
        case 0x73_7461_7473: return hi == 0 ? ("stats", 80) : nil
        case 0x74_6173_6B73: return hi == 0 ? ("tasks", 51) : nil
        case 0x74_6F6B_656E: return hi == 0 ? ("token", 14) : nil
        case 0x6661_696C_6564: return hi == 0 ? ("failed", 83) : nil
        case 0x6675_7475_7265: return hi == 0 ? ("future", 47) : nil
        case 0x6D65_7468_6F64: return hi == 0 ? ("method", 3) : nil
        case 0x6F75_7470_7574: return hi == 0 ? ("output", 27) : nil
        case 0x7061_7261_6D73: return hi == 0 ? ("params", 4) : nil
        case 0x7175_6575_6573: return hi == 0 ? ("queues", 16) : nil
        case 0x7265_6173_6F6E: return hi == 0 ? ("reason", 43) : nil
        case 0x7265_7375_6C74: return hi == 0 ? ("result", 5) : nil
        case 0x7265_7665_7274: return hi == 0 ? ("revert", 41) : nil
        case 0x776F_726B_6572: return hi == 0 ? ("worker", 15) : nil
        case 0x61_7474_656D_7074: return hi == 0 ? ("attempt", 29) : nil
        case 0x63_7265_6174_6564: return hi == 0 ? ("created", 56) : nil
        case 0x64_6566_6175_6C74: return hi == 0 ? ("default", 19) : nil
        case 0x68_616E_646C_6572: return hi == 0 ? ("handler", 25) : nil
        case 0x6A_736F_6E72_7063: return hi == 0 ? ("jsonrpc", 0) : nil
        case 0x6D_6174_6368_6564: return hi == 0 ? ("matched", 66) : nil
        case 0x6D_6573_7361_6765: return hi == 0 ? ("message", 8) : nil
        case 0x72_756E_6E69_6E67: return hi == 0 ? ("running", 62) : nil
        case 0x73_6C65_6570_5F73: return hi == 0 ? ("sleep_s", 49) : nil
        case 0x73_7061_776E_6564: return hi == 0 ? ("spawned", 50) : nil
        case 0x74_6173_6B5F_6964: return hi == 0 ? ("task_id", 21) : nil
        case 0x6174_7465_6D70_7473: return hi == 0 ? ("attempts", 30) : nil
        case 0x6261_636B_6F66_665F: return hi == 0x73 ? ("backoff_s", 32) : nil
        case 0x6361_6E63_656C_6C65: return hi == 0x64 ? ("cancelled", 84) : nil
        case 0x636F_6D70_6C65_7465: return hi == 0x64 ? ("completed", 82) : nil
        case 0x636F_6E63_7572_7265: return hi == 0x6E_6379 ? ("concurrency", 18) : nil
        case 0x6372_6561_7465_645F: return hi == 0x6174 ? ("created_at", 57) : nil
        case 0x6465_6164_6C69_6E65: return hi == 0 ? ("deadline", 39) : nil
        case 0x6669_6E69_7368_6564: return hi == 0x5F_6174 ? ("finished_at", 59) : nil
        case 0x6865_6172_7462_6561: return hi == 0x74_5F73 ? ("heartbeat_s", 38) : nil
        case 0x696E_7465_7276_616C: return hi == 0x5F73 ? ("interval_s", 48) : nil
        case 0x6D61_785F_6174_7465: return hi == 0x6D70_7473 ? ("max_attempts", 31) : nil
        case 0x6D61_785F_6261_636B: return hi == 0x6F_6666_5F73 ? ("max_backoff_s", 33) : nil
        case 0x7072_696F_7269_7479: return hi == 0 ? ("priority", 40) : nil
        case 0x7072_6F67_7265_7373: return hi == 0 ? ("progress", 42) : nil
        case 0x7072_6F74_6F63_6F6C: return hi == 0 ? ("protocol", 13) : nil
        case 0x7265_7472_795F_6174: return hi == 0 ? ("retry_at", 36) : nil
        case 0x7265_7472_7961_626C: return hi == 0x65 ? ("retryable", 35) : nil
        case 0x7363_6865_6475_6C65: return hi == 0x645F_6174 ? ("scheduled_at", 60) : nil
        case 0x7374_6172_7465_645F: return hi == 0x6174 ? ("started_at", 58) : nil
        case 0x7461_736B_2E61_7761: return hi == 0x6974 ? ("task.await", 74) : nil
        case 0x7461_736B_2E63_616E: return hi == 0x63_656C ? ("task.cancel", 75) : nil
        case 0x7461_736B_2E63_6F6D: return hi == 0x70_6C65_7465 ? ("task.complete", 69) : nil
        case 0x7461_736B_2E66_6169: return hi == 0x6C ? ("task.fail", 70) : nil
        case 0x7461_736B_2E68_6561: return hi == 0x7274_6265_6174 ? ("task.heartbeat", 71) : nil
        case 0x7461_736B_2E72_656C: return hi == 0x6561_7365 ? ("task.release", 72) : nil
        case 0x7461_736B_2E72_756E: return hi == 0 ? ("task.run", 68) : nil
        case 0x7461_736B_2E73_7061: return hi == 0x776E ? ("task.spawn", 73) : nil
        case 0x7469_6D65_6F75_745F: return hi == 0x73 ? ("timeout_s", 37) : nil
        case 0x776F_726B_6572_2E71: return hi == 0x7569_6574 ? ("worker.quiet", 76) : nil
        case 0x776F_726B_666C_6F77:
            switch hi {
            case 0x73: return ("workflows", 61)
            case 0x5F_6964: return ("workflow_id", 22)
            case 0x2E67_6574: return ("workflow.get", 77)
            case 0x2E_6C69_7374: return ("workflow.list", 78)
            case 0x2E_7761_6974: return ("workflow.wait", 79)
            case 0x5F_6E61_6D65: return ("workflow_name", 23)
            case 0x5F69_6E70_7574: return ("workflow_input", 24)
            case 0x2E_7375_626D_6974: return ("workflow.submit", 81)
            default: return nil
            }
        default: return nil
        }
    }
}

/// The first 16 bytes of a string, packed as `KnownStrings` compares them, and its length. The parser fills one as
/// it scans a string for its closing quote, so recognising a known string reads its bytes only once.
struct PackedBytes {
    /// Bytes 0 to 7, big-endian: the first byte is the most significant of those present.
    var lo: UInt64 = 0
    /// Bytes 8 to 15, packed as `lo`.
    var hi: UInt64 = 0
    /// How many bytes were appended, including any past the 16 kept.
    var count = 0

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        if count < 8 {
            lo = lo &<< 8 | UInt64(byte)
        } else if count < 16 {
            hi = hi &<< 8 | UInt64(byte)
        }
        count &+= 1
    }
}
