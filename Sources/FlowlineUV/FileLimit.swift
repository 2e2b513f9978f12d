internal import Glibc

/// The process's limit on open file descriptors (`RLIMIT_NOFILE`), which bounds how many connections a
/// listener can hold.
public enum FileLimit {
    /// Raises the soft limit to the hard limit (`getrlimit`, `setrlimit`) and returns the soft limit now in
    /// force; nil if the limit cannot be read. Many distributions start services with a soft limit of 1024,
    /// far below what the hard limit allows.
    @discardableResult
    public static func raiseToHardLimit() -> Int? {
        var limit = rlimit()
        guard unsafe getrlimit(RLIMIT_NOFILE_ID, &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if unsafe setrlimit(RLIMIT_NOFILE_ID, &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }

    /// Glibc imports RLIMIT_NOFILE as an enum case of `__rlimit_resource`; the functions take its raw value.
    private static var RLIMIT_NOFILE_ID: __rlimit_resource_t { __rlimit_resource_t(RLIMIT_NOFILE.rawValue) }
}
