import Testing

@testable import FlowlineCore

/// The counter ids hash with `IntegerIDHash` in sets and dictionaries instead of `Hasher`.
struct IdentifierHashTests {
    @Test func equalIDsHashEquallyUnderEachSeed() {
        for seed in [0, 1, -1, 0x5eed, Int.max, Int.min] {
            for n: UInt64 in [0, 1, 2, 1000, UInt64.max] {
                #expect(LeaseID(n)._rawHashValue(seed: seed) == LeaseID(n)._rawHashValue(seed: seed))
                #expect(WorkerID(n)._rawHashValue(seed: seed) == IntegerIDHash.mix(n, seed: seed))
                #expect(RequestID(n)._rawHashValue(seed: seed) == IntegerIDHash.mix(n, seed: seed))
            }
        }
        #expect(LeaseID(7).hashValue == LeaseID(7).hashValue)
    }

    @Test func consecutiveIDsSpreadOverTheLowBits() {
        // A table of 1024 buckets uses the low 10 bits: 4096 consecutive ids should fill most of them evenly.
        var buckets = [Int](repeating: 0, count: 1024)
        for n: UInt64 in 1...4096 { buckets[IntegerIDHash.mix(n, seed: 42) & 1023] += 1 }
        #expect(buckets.filter { $0 == 0 }.count < 64)
        #expect(buckets.max()! < 16)
    }

    @Test func setsAndDictionariesKeyedByIDsFindEveryKey() {
        var leases: Set<LeaseID> = []
        var owners: [LeaseID: WorkerID] = [:]
        for n: UInt64 in 1...5000 {
            leases.insert(LeaseID(n))
            owners[LeaseID(n)] = WorkerID(n % 7)
        }
        for n: UInt64 in stride(from: 1, through: 5000, by: 2) {
            leases.remove(LeaseID(n))
            owners[LeaseID(n)] = nil
        }
        #expect(leases.count == 2500)
        #expect(owners.count == 2500)
        for n: UInt64 in 1...5000 {
            #expect(leases.contains(LeaseID(n)) == (n % 2 == 0))
            #expect(owners[LeaseID(n)] == (n % 2 == 0 ? WorkerID(n % 7) : nil))
        }
        let requests = Dictionary(uniqueKeysWithValues: (1...100).map { (RequestID(UInt64($0)), $0) })
        #expect((1...100).allSatisfy { requests[RequestID(UInt64($0))] == $0 })
    }
}
