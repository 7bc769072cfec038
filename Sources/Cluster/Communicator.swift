/// The processes of one job and the collectives GradFeat needs between them. One process is a ``SingleProcess``;
/// a job started by `mpirun` is an ``MPICommunicator`` (``Cluster/world()`` gives whichever this process is).
///
/// Results that feed parameters are combined by ``orderedSum(parts:count:partCount:)``: fixed parts, summed in a
/// fixed order on every rank, so they are the same bit for bit whatever the number of ranks.
public protocol Communicator: Sendable {
    /// This process's index, `0..<size`.
    var rank: Int { get }
    /// The number of processes in the job.
    var size: Int { get }
    /// Every rank's `bytes` (any length), in rank order, on every rank.
    func allGather(_ bytes: [UInt8]) throws -> [[UInt8]]
    /// Every rank's `floats`, concatenated in rank order, on every rank; `counts[r]` is rank r's count.
    func allGather(floats: UnsafeBufferPointer<Float>, counts: [Int]) throws -> [Float]
    /// Root's `bytes` on every rank (the others' arguments are ignored).
    func broadcast(_ bytes: [UInt8], from root: Int) throws -> [UInt8]
    /// Returns once every rank has called it.
    func barrier() throws
    /// Ends every rank of the job after printing `message`, naming this rank, on standard error.
    func abort(_ message: String) -> Never
}

extension Communicator {
    /// The contiguous share of `0..<count` this rank owns: ranks own balanced, ordered ranges.
    public func share(of count: Int) -> Range<Int> { Cluster.share(of: count, rank: rank, size: size) }

    /// The sum of `partCount` vectors of `count` floats, where this rank holds the parts of its
    /// ``share(of:)`` of `0..<partCount` in `parts` (in order), added on every rank in the order of the parts:
    /// ```
    /// s = ((p₀ + p₁) + p₂) + … + p_{m−1}
    /// ```
    /// the same additions, so the same bits, for any number of ranks (a reduction tree's order would change with
    /// it). Every rank receives every part: it moves `partCount · count` floats where an allreduce moves about
    /// `2 · count`.
    public func orderedSum(parts: [[Float]], count: Int, partCount: Int) throws -> [Float] {
        let mine = share(of: partCount)
        guard parts.count == mine.count, parts.allSatisfy({ $0.count == count }) else {
            throw ClusterError.mismatch(
                "rank \(rank) holds \(parts.count) parts (expected \(mine.count)) of \(count) floats each")
        }
        var sum = [Float](repeating: 0, count: count)
        guard size > 1 else {
            for part in parts { part.withUnsafeBufferPointer { Self.add($0, to: &sum) } }
            return sum
        }
        // Rank r's parts follow rank r − 1's, so the gathered floats are parts 0, 1, …, M − 1 in order.
        var sent = [Float]()
        sent.reserveCapacity(parts.count * count)
        for part in parts { sent.append(contentsOf: part) }
        let counts = (0..<size).map { Cluster.share(of: partCount, rank: $0, size: size).count * count }
        let all = try sent.withUnsafeBufferPointer { try allGather(floats: $0, counts: counts) }
        guard all.count == partCount * count else {
            throw ClusterError.mismatch("gathered \(all.count) floats for \(partCount) parts of \(count)")
        }
        all.withUnsafeBufferPointer { gathered in
            for k in 0..<partCount {
                Self.add(UnsafeBufferPointer(rebasing: gathered[(k * count)..<((k + 1) * count)]), to: &sum)
            }
        }
        return sum
    }

    /// `sum[i] += part[i]` for every i.
    private static func add(_ part: UnsafeBufferPointer<Float>, to sum: inout [Float]) {
        sum.withUnsafeMutableBufferPointer { s in
            for i in 0..<s.count { s[i] += part[i] }
        }
    }

    /// ``allGather(floats:counts:)`` through ``allGather(_:)``, for communicators without a faster one.
    public func allGatherThroughBytes(floats: UnsafeBufferPointer<Float>, counts: [Int]) throws -> [Float] {
        let gathered = try allGather(Array(UnsafeRawBufferPointer(floats)))
        var all = [Float]()
        all.reserveCapacity(counts.reduce(0, +))
        for (r, bytes) in gathered.enumerated() {
            guard r < counts.count, bytes.count == counts[r] * MemoryLayout<Float>.size else {
                throw ClusterError.mismatch(
                    "rank \(r) sent \(bytes.count) bytes, not \(counts[min(r, counts.count - 1)]) floats")
            }
            bytes.withUnsafeBytes { all.append(contentsOf: $0.bindMemory(to: Float.self)) }
        }
        return all
    }

    /// Throws, naming the ranks that differ, unless every rank passes the same `text` (a configuration, a data
    /// set's description): a job whose ranks disagree would train on different problems.
    public func requireAgreement(on text: String, what: String) throws {
        guard size > 1 else { return }
        let all = try allGather(Array(text.utf8))
        let differing = all.indices.filter { all[$0] != all[0] }
        guard differing.isEmpty else {
            throw ClusterError.disagreement(
                "ranks disagree on \(what): rank 0 has \(String(decoding: all[0], as: UTF8.self)), rank "
                    + "\(differing[0]) has \(String(decoding: all[differing[0]], as: UTF8.self)); start every rank "
                    + "with the same arguments, files and environment")
        }
    }
}
