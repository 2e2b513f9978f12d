import Glibc

/// A child process forked from the test process, for behaviour that needs a second process (LMDB forbids opening
/// one environment twice in a process). Parent and child pass single bytes over two pipes.
///
/// The child runs only `body`, then `_exit`s with its result, so it never returns into the test runner. Keep
/// `body` to plain Swift and this package's code: after `fork` only the calling thread exists in the child.
final class ForkedProcess {
    private let pid: pid_t
    private let toChild: Int32
    private let fromChild: Int32
    private var exitStatus: Int32?

    /// The child's end: `send` and `receive` block; `receive` returns `nil` once the parent has gone.
    struct Channel {
        fileprivate let input: Int32
        fileprivate let output: Int32

        func send(_ byte: UInt8) { ForkedProcess.write(byte, to: output) }

        func receive() -> UInt8? { ForkedProcess.read(from: input) }
    }

    init(_ body: (Channel) -> Int32) throws {
        var down: [Int32] = [-1, -1]
        var up: [Int32] = [-1, -1]
        guard unsafe pipe(&down) == 0, unsafe pipe(&up) == 0 else { throw ForkError(call: "pipe", code: errno) }
        let pid = fork()
        guard pid >= 0 else { throw ForkError(call: "fork", code: errno) }
        if pid == 0 {
            close(down[1])
            close(up[0])
            _exit(body(Channel(input: down[0], output: up[1])))
        }
        close(down[0])
        close(up[1])
        self.pid = pid
        self.toChild = down[1]
        self.fromChild = up[0]
    }

    deinit {
        close(toChild)
        close(fromChild)
        // Kill and reap the child if the test gave up on it early. Only while unreaped: a reaped pid may be reused.
        if exitStatus == nil {
            kill(pid, SIGKILL)
            _ = wait()
        }
    }

    /// Sends one byte to the child.
    func send(_ byte: UInt8) { Self.write(byte, to: toChild) }

    /// The child's next byte, or `nil` when it sent none within `timeout` seconds or exited.
    func receive(timeout seconds: Int32) -> UInt8? {
        var descriptor = pollfd(fd: fromChild, events: Int16(POLLIN), revents: 0)
        guard unsafe poll(&descriptor, 1, seconds * 1000) == 1 else { return nil }
        return Self.read(from: fromChild)
    }

    /// Waits for the child to exit and returns its exit status, or -1 if it was killed by a signal.
    func wait() -> Int32 {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        while unsafe waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS are macros Swift does not import.
        let result = status & 0x7F == 0 ? (status >> 8) & 0xFF : -1
        exitStatus = result
        return result
    }

    private static func write(_ byte: UInt8, to fd: Int32) {
        var byte = byte
        _ = unsafe Glibc.write(fd, &byte, 1)
    }

    private static func read(from fd: Int32) -> UInt8? {
        var byte: UInt8 = 0
        return unsafe Glibc.read(fd, &byte, 1) == 1 ? byte : nil
    }
}

struct ForkError: Error {
    let call: String
    let code: Int32
}
