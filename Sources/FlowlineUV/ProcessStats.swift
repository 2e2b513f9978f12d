internal import Glibc

/// The figures of Prometheus's standard `process_*` metrics, read from `/proc` (Linux).
public struct ProcessStats: Sendable {
    public var cpuSeconds = 0.0
    public var residentBytes = 0
    public var virtualBytes = 0
    public var openFiles = 0
    public var maxFiles = 0
    /// Seconds since the Unix epoch.
    public var startTime = 0.0

    /// Reads them now; a figure `/proc` does not give stays 0.
    public static func current() -> ProcessStats {
        var stats = ProcessStats()
        let ticks = Double(max(1, sysconf(Int32(_SC_CLK_TCK))))
        let page = Int(max(1, sysconf(Int32(_SC_PAGESIZE))))
        // /proc/self/stat: "pid (comm) state ..." where comm may hold spaces and parentheses; fields count from the
        // last ')'. Field 14 utime, 15 stime, 22 starttime (ticks after boot), 23 vsize (bytes), 24 rss (pages).
        if let stat = readFile("/proc/self/stat"), let close = stat.lastIndex(of: UInt8(ascii: ")")) {
            let fields = stat[(close + 1)...].split(separator: UInt8(ascii: " ")).map {
                Int(String(decoding: $0, as: UTF8.self).trimmingNewline) ?? 0
            }
            // fields[0] is field 3 (state).
            func field(_ n: Int) -> Int { fields.indices.contains(n - 3) ? fields[n - 3] : 0 }
            stats.cpuSeconds = Double(field(14) + field(15)) / ticks
            stats.virtualBytes = field(23)
            stats.residentBytes = field(24) * page
            if let bootTime = Self.bootTime { stats.startTime = bootTime + Double(field(22)) / ticks }
        }
        stats.openFiles = countOpenFiles()
        var limit = rlimit()
        if unsafe getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            stats.maxFiles = Int(clamping: limit.rlim_cur)
        }
        return stats
    }

    /// `btime` of /proc/stat: when the machine booted, in seconds since the epoch. Read once.
    private static let bootTime: Double? = {
        guard let text = readFile("/proc/stat") else { return nil }
        for line in text.split(separator: UInt8(ascii: "\n")) where line.starts(with: "btime ".utf8) {
            return Double(String(decoding: line.dropFirst(6), as: UTF8.self))
        }
        return nil
    }()

    private static func countOpenFiles() -> Int {
        guard let dir = unsafe opendir("/proc/self/fd") else { return 0 }
        defer { unsafe closedir(dir) }
        var count = 0
        while let entry = unsafe readdir(dir) {
            let first = unsafe entry.pointee.d_name.0
            if UInt8(bitPattern: first) != UInt8(ascii: ".") { count += 1 }
        }
        // The directory stream's own descriptor is not the daemon's.
        return max(0, count - 1)
    }

    /// A small file's bytes (`/proc` files report size 0, so read to the end).
    static func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = unsafe chunk.withUnsafeMutableBytes { unsafe read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes += chunk[..<n]
        }
        return bytes
    }
}

extension String {
    fileprivate var trimmingNewline: String { hasSuffix("\n") ? String(dropLast()) : self }
}
