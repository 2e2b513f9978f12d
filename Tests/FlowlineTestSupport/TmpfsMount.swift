import Foundation

/// A small tmpfs mounted in a fresh temporary directory, for a real full disk (needs root). `unmount()` it in a
/// `defer` (which also keeps it alive as long as the test runs).
public final class TmpfsMount {
    public struct MountFailed: Error, CustomStringConvertible {
        public let description: String
    }

    /// The mount point.
    public let path: String
    private let directory: TemporaryDirectory

    public init(size: String = "16m") throws {
        directory = try TemporaryDirectory()
        path = directory.path + "/tmpfs"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let mounted = try ToolProcess.runProgram("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", path])
        guard mounted.status == 0 else { throw MountFailed(description: "\(mounted)") }
    }

    /// Unmounts it lazily: a daemon still holding files there does not stop it.
    public func unmount() { _ = try? ToolProcess.runProgram("/bin/umount", ["-l", path]) }
}
