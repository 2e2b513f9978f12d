import Foundation

/// Runs `body` with the path of a fresh, empty directory, and removes the directory afterwards.
func withTemporaryDirectory<R>(_ body: (String) throws -> R) throws -> R {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("flowline-journal-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url.path)
}

/// Distinct, recognisable record bytes for `seq`, `size` bytes long.
func recordBytes(_ seq: Int, size: Int = 16) -> [UInt8] {
    (0..<size).map { UInt8(truncatingIfNeeded: seq &* 31 &+ $0) }
}
