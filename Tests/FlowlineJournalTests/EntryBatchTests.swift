import FlowlineLMDB
import Testing

struct EntryBatchTests {
    @Test("a batch sorts its entries in LMDB's key order: unsigned bytes, a prefix before its extensions")
    func sortsInLMDBKeyOrder() {
        var generator = SystemRandomNumberGenerator()
        let seed = UInt64.random(in: 0...UInt64.max, using: &generator)
        var rng = SplitMix(seed)
        // Short alphabets and lengths around the 8-byte prefix make shared prefixes, NULs and ties common.
        let alphabet: [UInt8] = [0, 1, 0x7F, 0x80, 0xFF, UInt8(ascii: "w"), UInt8(ascii: "f")]
        var keys: [[UInt8]] = [[], [0], [0, 0], Array(repeating: 0, count: 8), Array(repeating: 0, count: 9)]
        for _ in 0..<400 {
            let length = Int(rng.next() % 18)
            keys.append((0..<length).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
        }
        var batch = EntryBatch()
        for (i, key) in keys.enumerated() {
            batch.append { buffer in
                buffer += key
                return [UInt8(i >> 8), UInt8(truncatingIfNeeded: i)]
            }
        }
        batch.sortByKey()
        let sorted = (0..<batch.count).map { Array(batch.key(at: $0)) }
        #expect(sorted == keys.sorted { $0.lexicographicallyPrecedes($1) }, "seed \(seed)")
        for i in 0..<batch.count {
            let value = batch.value(at: i)
            #expect(keys[Int(value[0]) << 8 | Int(value[1])] == sorted[i], "seed \(seed)")
        }
    }
}

/// A seeded generator, so that a failure's seed reproduces it.
private struct SplitMix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
