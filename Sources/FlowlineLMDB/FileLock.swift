internal import Glibc

/// An exclusive `flock` on a file, which says who holds it: the holder's pid is written into the file.
///
/// LMDB lets any number of processes open one environment for writing, so one writer per journal needs a lock of
/// its own. The OS releases it when the holder exits, however it dies (SIGKILL included); a stale file with a pid
/// in it locks nothing. Held until `deinit`.
@safe public final class FileLock {
    private let fd: Int32
    /// The file, as given.
    public let path: String

    /// Why the lock was not taken.
    public enum Failure: Error, Equatable {
        /// Another open file description holds it; `pid` is what the holder wrote (nil if unreadable).
        case held(pid: Int32?)
        /// `open`, `flock` or `write` failed with this `errno`.
        case system(call: String, code: Int32)
    }

    /// Takes the lock on `path` (created with mode 0644), without waiting, and writes this process's pid into it.
    public init(path: String) throws(Failure) {
        let fd = unsafe Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .system(call: "open(\(path))", code: errno) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            let pid = code == EWOULDBLOCK ? Self.readPID(fd) : nil
            Glibc.close(fd)
            throw code == EWOULDBLOCK ? .held(pid: pid) : .system(call: "flock(\(path))", code: code)
        }
        let text = Array("\(getpid())\n".utf8)
        let written = unsafe text.withUnsafeBytes { unsafe pwrite(fd, $0.baseAddress, $0.count, 0) }
        guard written == text.count, ftruncate(fd, off_t(text.count)) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw .system(call: "write(\(path))", code: code)
        }
        self.fd = fd
        self.path = path
    }

    deinit {
        // Closing the last descriptor of the open file description releases the lock.
        Glibc.close(fd)
    }

    /// The pid the holder wrote, if the file holds one.
    private static func readPID(_ fd: Int32) -> Int32? {
        var bytes = [UInt8](repeating: 0, count: 32)
        let count = unsafe bytes.withUnsafeMutableBytes { unsafe pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return Int32(String(decoding: bytes[..<count], as: UTF8.self).trimmingSuffix())
    }
}

extension String {
    fileprivate func trimmingSuffix() -> Substring {
        var text = Substring(self)
        while let last = text.last, last == "\n" || last == " " || last == "\0" { text = text.dropLast() }
        return text
    }
}
