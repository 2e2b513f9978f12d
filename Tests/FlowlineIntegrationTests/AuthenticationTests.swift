import Testing

@testable import FlowlineServer

/// The token check (`constantTimeEquals`): right for equal, unequal and different-length secrets, and built so
/// that its work depends only on the lengths. The -32001 path before hello is in BadInputTests.
@Suite(.timeLimit(.minutes(1)))
struct AuthenticationTests {
    static let cases: [(String, String, Bool)] = [
        ("s3cret", "s3cret", true),
        ("", "", true),
        ("s3cret", "s3creT", false),
        ("s3cret", "S3cret", false),
        ("s3cret", "s3cre", false),
        ("s3cret", "s3cret2", false),
        ("", "s", false),
        ("s3cret", "", false),
        // Lengths 256 apart: a byte-sized length difference would wrap to 0 here.
        ("s3cret", "s3cret" + String(repeating: "\u{0}", count: 256), false),
        ("", String(repeating: "\u{0}", count: 512), false),
        (String(repeating: "x", count: 4096), String(repeating: "x", count: 4096), true),
    ]

    @Test("constantTimeEquals agrees with ==", arguments: cases)
    func agreesWithEquality(a: String, b: String, equal: Bool) {
        #expect(constantTimeEquals(Array(a.utf8), Array(b.utf8)) == equal)
        #expect(constantTimeEquals(Array(b.utf8), Array(a.utf8)) == equal)
    }

    @Test func everyDifferingPositionIsFound() {
        let token = Array("a-long-enough-token-0123456789".utf8)
        for i in token.indices {
            var other = token
            other[i] ^= 0x01
            #expect(!constantTimeEquals(token, other), "a difference at byte \(i) was missed")
        }
    }
}

extension AuthenticationTests {
    /// An early-exit comparison on a 1 MiB token is about a million times faster when the first byte differs
    /// than when the last one does; a constant-time one takes the same time. A factor of 3 leaves room for noise.
    @Test func timeDoesNotDependOnWhereTheFirstDifferenceIs() {
        let token = [UInt8](repeating: 0x61, count: 1 << 20)
        var first = token
        first[0] = 0x62
        var last = token
        last[last.count - 1] = 0x62
        func fastest(_ other: [UInt8]) -> Duration {
            (0..<15).map { _ in ContinuousClock().measure { #expect(!constantTimeEquals(token, other)) } }.min()!
        }
        let early = fastest(first)
        let late = fastest(last)
        let ratio = late / early
        #expect(ratio > 1.0 / 3 && ratio < 3, "first byte differs: \(early), last byte differs: \(late)")
    }
}
