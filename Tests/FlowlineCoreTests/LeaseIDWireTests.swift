import FlowlineCore
import Testing

/// `LeaseID(wire:)` reads the bytes itself; it must accept exactly what the library's parse of `L<number>` does.
struct LeaseIDWireTests {
    private static func reference(_ wire: String) -> UInt64? {
        wire.hasPrefix("L") ? UInt64(wire.dropFirst()) : nil
    }

    @Test(
        "the wire form parses as hasPrefix(\"L\") and UInt64(_:) would",
        arguments: [
            "L0", "L1", "L42", "L05", "L18446744073709551615", "L18446744073709551616", "L99999999999999999999",
            "L", "", "l5", "L+5", "L-0", "L-00", "L-5", "L+", "L-", "L+-1", "L5x", "L 5", " L5", "LL5", "L٣",
            "L\u{301}5", "\u{FF2C}5", "L5\u{301}", "L１", "#5",
        ]
    )
    func matchesTheLibraryParse(wire: String) {
        #expect(LeaseID(wire: wire)?.rawValue == Self.reference(wire))
    }

    @Test("a lease's description reads back as the same lease")
    func roundTrips() {
        for n: UInt64 in [0, 1, 9, 10, 1234, UInt64.max] {
            #expect(LeaseID(wire: LeaseID(n).description) == LeaseID(n))
        }
    }
}
