internal import CLibUV
internal import Glibc

/// Wall-clock time in milliseconds since the Unix epoch (`uv_gettimeofday`). It stamps events and persisted
/// deadlines; waits use the loop's monotonic clock (`EventLoop.now`).
public func wallClockMilliseconds() -> Int64 {
    var tv = uv_timeval64_t()
    let rc = unsafe uv_gettimeofday(&tv)
    precondition(rc == 0, "uv_gettimeofday failed: \(rc)")
    return tv.tv_sec * 1000 + Int64(tv.tv_usec) / 1000
}

/// Test-only: the milliseconds (an integer, perhaps negative) held by the file that the environment variable
/// `FLOWLINE_TEST_WALL_CLOCK_OFFSET_FILE` names, read anew at each call, so that a test can make a real daemon see
/// its wall clock jump; tests cannot set the machine's clock. 0 when the variable is unset (one check of a constant)
/// or the file is missing or holds no number.
public func testWallClockOffsetMilliseconds() -> Int64 {
    guard let path = testWallClockOffsetFile else { return 0 }
    let fd = unsafe open(path, O_RDONLY)
    guard fd >= 0 else { return 0 }
    defer { close(fd) }
    var bytes = [UInt8](repeating: 0, count: 32)
    let count = unsafe bytes.withUnsafeMutableBytes { unsafe read(fd, $0.baseAddress, $0.count) }
    guard count > 0 else { return 0 }
    let digits = bytes[..<count].filter { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\n") }
    return Int64(String(decoding: digits, as: UTF8.self)) ?? 0
}

private let testWallClockOffsetFile: String? = unsafe getenv("FLOWLINE_TEST_WALL_CLOCK_OFFSET_FILE").map {
    unsafe String(cString: $0)
}
