import Testing

@testable import Cluster

/// Rank `rank` of a job of `size` whose every rank sends what `send(r)` gives: the collectives without MPI.
struct SimulatedRank: Communicator {
    let rank: Int
    let size: Int
    let send: @Sendable (Int) -> [UInt8]

    func allGather(_ bytes: [UInt8]) throws -> [[UInt8]] {
        (0..<size).map { $0 == rank ? bytes : send($0) }
    }
    func allGather(floats: UnsafeBufferPointer<Float>, counts: [Int]) throws -> [Float] {
        try allGatherThroughBytes(floats: floats, counts: counts)
    }
    func broadcast(_ bytes: [UInt8], from root: Int) throws -> [UInt8] { root == rank ? bytes : send(root) }
    func barrier() throws {}
    func abort(_ message: String) -> Never { fatalError(message) }
}

@Suite struct ClusterTests {
    /// Parts whose sum depends on the order of the additions (magnitudes from 1e-4 to 1e4).
    static func parts(_ count: Int, length: Int) -> [[Float]] {
        var state: UInt64 = 0x9E37_79B9
        func next() -> Float {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let unit = Float(state >> 40) / Float(1 << 24)
            let scales: [Float] = [1e-4, 1e-3, 1e-2, 1e-1, 1, 1e1, 1e2, 1e3, 1e4]
            return (unit - 0.5) * scales[Int((state >> 20) % 9)]
        }
        return (0..<count).map { _ in (0..<length).map { _ in next() } }
    }

    @Test func sharesAreBalancedOrderedAndCoverEverything() {
        for size in 1...5 {
            for count in [0, 1, 2, 7, 64] {
                let shares = (0..<size).map { Cluster.share(of: count, rank: $0, size: size) }
                #expect(shares.map(\.count).reduce(0, +) == count)
                #expect(zip(shares, shares.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
                #expect((shares.map(\.count).max() ?? 0) - (shares.map(\.count).min() ?? 0) <= 1)
            }
        }
    }

    /// The ordered sum on every rank of 1 … 4 ranks equals one process's, bit for bit — and differs from a sum in
    /// another order, so the test can tell.
    @Test func orderedSumIsTheSameBitsForAnyNumberOfRanks() throws {
        let (count, length) = (6, 257)
        let all = Self.parts(count, length: length)
        let single = try SingleProcess().orderedSum(parts: all, count: length, partCount: count)
        var reversed = [Float](repeating: 0, count: length)
        for part in all.reversed() { for i in 0..<length { reversed[i] += part[i] } }
        #expect(reversed != single)
        for size in 1...4 {
            let sent: @Sendable (Int) -> [UInt8] = { r in
                let owned = Cluster.share(of: count, rank: r, size: size)
                return all[owned].flatMap { $0 }.withUnsafeBytes { Array($0) }
            }
            for rank in 0..<size {
                let communicator = SimulatedRank(rank: rank, size: size, send: sent)
                let mine = Array(all[communicator.share(of: count)])
                let sum = try communicator.orderedSum(parts: mine, count: length, partCount: count)
                #expect(sum.map(\.bitPattern) == single.map(\.bitPattern), "rank \(rank) of \(size)")
            }
        }
    }

    @Test func orderedSumRefusesPartsThatDoNotFit() {
        let communicator = SimulatedRank(rank: 0, size: 2, send: { _ in [1, 2, 3] })
        #expect(throws: ClusterError.self) { // rank 0 of 2 owns 2 of 4 parts, not 1
            try communicator.orderedSum(parts: [[1, 2]], count: 2, partCount: 4)
        }
        #expect(throws: ClusterError.self) { // rank 1 sent 3 bytes, not 2 parts of 2 floats
            try communicator.orderedSum(parts: [[1, 2], [3, 4]], count: 2, partCount: 4)
        }
    }

    @Test func ranksThatDisagreeAreNamed() throws {
        let agreeing = SimulatedRank(rank: 0, size: 3, send: { _ in Array("lr=0.001".utf8) })
        try agreeing.requireAgreement(on: "lr=0.001", what: "the configuration")
        let differing = SimulatedRank(
            rank: 0, size: 3, send: { $0 == 2 ? Array("lr=0.01".utf8) : Array("lr=0.001".utf8) })
        #expect {
            try differing.requireAgreement(on: "lr=0.001", what: "the configuration")
        } throws: { error in
            "\(error)".contains("rank 2 has lr=0.01") && "\(error)".contains("rank 0 has lr=0.001")
        }
    }

    @Test func aProcessNotStartedByMPIRunIsOneProcess() throws {
        guard Cluster.launchedSize == nil else { return } // the MPI checks run under mpirun: scripts/check-mpi.sh
        let world = try Cluster.world()
        #expect(world.rank == 0 && world.size == 1)
        #expect(try world.allGather([1, 2]) == [[1, 2]])
    }

    @Test func aMissingLibraryIsAClearError() {
        #expect {
            _ = try MPICommunicator(library: "/nonexistent/libmpi.so.40")
        } throws: { error in
            guard case let .unavailable(message) = error as? ClusterError else { return false }
            return message.contains("/nonexistent/libmpi.so.40") && message.contains("openmpi-bin")
        }
    }
}
