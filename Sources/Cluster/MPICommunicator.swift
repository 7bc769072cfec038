import CMPI

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The processes `mpirun` started, through Open MPI's MPI_COMM_WORLD (loaded at run time). There is one per
/// process, from ``Cluster/world()``: MPI is initialised when it is made and finalised when the process exits.
public final class MPICommunicator: Communicator, @unchecked Sendable {
    // @unchecked: rank and size never change; MPI serialises the calls (GradFeat makes them from one thread).
    public let rank: Int
    public let size: Int

    /// Loads `library` and initialises MPI (once per process: ``Cluster/world()``).
    init(library: String) throws {
        var error = [CChar](repeating: 0, count: 512)
        guard cmpi_load(library, &error, error.count) == 0 else {
            throw ClusterError.unavailable(
                "cannot load Open MPI's library \(library): \(Cluster.text(error)). Install Open MPI (Debian: "
                    + "apt-get install openmpi-bin) or set GRADFEAT_MPI_LIBRARY to its libmpi.so")
        }
        var provided: Int32 = 0
        try Self.check(cmpi_init(&provided), "MPI_Init_thread")
        var r: Int32 = 0, s: Int32 = 0
        try Self.check(cmpi_rank(&r), "MPI_Comm_rank")
        try Self.check(cmpi_size(&s), "MPI_Comm_size")
        (rank, size) = (Int(r), Int(s))
        // Every rank that initialised MPI must finalise it, or mpirun reports the job as failed.
        atexit { if cmpi_finalized() == 0 { _ = cmpi_finalize() } }
    }

    static func check(_ code: Int32, _ call: String) throws {
        guard code != 0 else { return }
        var text = [CChar](repeating: 0, count: 512)
        cmpi_error_string(code, &text, text.count)
        throw ClusterError.mpi(call: call, code: code, message: Cluster.text(text))
    }

    public func allGather(_ bytes: [UInt8]) throws -> [[UInt8]] {
        guard bytes.count <= Int(Int32.max) else {
            throw ClusterError.mismatch("\(bytes.count) bytes are more than one MPI message carries (2³¹ − 1)")
        }
        var lengths = [Int64](repeating: 0, count: size)
        try Self.check(cmpi_allgather_int64(Int64(bytes.count), &lengths), "MPI_Allgather")
        let total = lengths.reduce(0, +)
        guard lengths.allSatisfy({ $0 >= 0 && $0 <= Int64(Int32.max) }), total <= Int64(Int32.max) else {
            throw ClusterError.mismatch("the ranks' messages total \(total) bytes, more than MPI_Allgatherv carries")
        }
        let counts = lengths.map { Int32($0) }
        let offsets = Self.offsets(counts)
        var received = [UInt8](repeating: 0, count: Int(total))
        try bytes.withUnsafeBytes { send in
            try received.withUnsafeMutableBytes { receive in
                try Self.check(
                    cmpi_allgatherv_bytes(
                        send.baseAddress, Int32(bytes.count), receive.baseAddress, counts, offsets),
                    "MPI_Allgatherv")
            }
        }
        return (0..<size).map { Array(received[Int(offsets[$0])..<Int(offsets[$0] + counts[$0])]) }
    }

    public func allGather(floats: UnsafeBufferPointer<Float>, counts: [Int]) throws -> [Float] {
        let size = MemoryLayout<Float>.size
        let total = counts.reduce(0, +)
        guard counts.count == self.size, floats.count == counts[rank], total * size <= Int(Int32.max) else {
            throw ClusterError.mismatch(
                "rank \(rank) gathers \(floats.count) floats with counts \(counts); at most 2³¹ − 1 bytes in all")
        }
        let byteCounts = counts.map { Int32($0 * size) }
        let offsets = Self.offsets(byteCounts)
        var received = [Float](repeating: 0, count: total)
        try received.withUnsafeMutableBytes { receive in
            try Self.check(
                cmpi_allgatherv_bytes(
                    floats.baseAddress, byteCounts[rank], receive.baseAddress, byteCounts, offsets),
                "MPI_Allgatherv")
        }
        return received
    }

    /// Where each rank's message starts in the gathered buffer: the running sum of the counts before it.
    static func offsets(_ counts: [Int32]) -> [Int32] {
        var offsets = [Int32](repeating: 0, count: counts.count)
        for r in counts.indices.dropFirst() { offsets[r] = offsets[r - 1] + counts[r - 1] }
        return offsets
    }

    public func broadcast(_ bytes: [UInt8], from root: Int) throws -> [UInt8] {
        var length = [Int64(bytes.count)]
        try length.withUnsafeMutableBytes { raw in
            try Self.check(cmpi_bcast_bytes(raw.baseAddress, 8, Int32(root)), "MPI_Bcast")
        }
        guard length[0] >= 0, length[0] <= Int64(Int32.max) else {
            throw ClusterError.mismatch("rank \(root) broadcast a length of \(length[0]) bytes")
        }
        var buffer = rank == root ? bytes : [UInt8](repeating: 0, count: Int(length[0]))
        try buffer.withUnsafeMutableBytes { raw in
            try Self.check(cmpi_bcast_bytes(raw.baseAddress, Int32(length[0]), Int32(root)), "MPI_Bcast")
        }
        return buffer
    }

    public func barrier() throws { try Self.check(cmpi_barrier(), "MPI_Barrier") }

    /// The sum of `values` over the ranks in the library's order (an allreduce): for timing collectives, not for
    /// results that must not depend on the number of ranks (``Communicator/orderedSum(parts:count:partCount:)``).
    public func allReduceSum(_ values: inout [Float]) throws {
        try values.withUnsafeMutableBufferPointer { v in
            try Self.check(cmpi_allreduce_sum_float(v.baseAddress, Int32(v.count)), "MPI_Allreduce")
        }
    }

    public func abort(_ message: String) -> Never {
        Cluster.writeError("Error: rank \(rank) of \(size): \(message)\n")
        _ = cmpi_abort(1)
        exit(1) // MPI_Abort does not return; if it did, still end this rank
    }
}
