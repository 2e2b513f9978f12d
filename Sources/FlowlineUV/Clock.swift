internal import CLibUV

/// Wall-clock time in milliseconds since the Unix epoch (`uv_gettimeofday`); the daemon's only clock.
public func wallClockMilliseconds() -> Int64 {
    var tv = uv_timeval64_t()
    let rc = unsafe uv_gettimeofday(&tv)
    precondition(rc == 0, "uv_gettimeofday failed: \(rc)")
    return tv.tv_sec * 1000 + Int64(tv.tv_usec) / 1000
}
