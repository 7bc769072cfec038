// The collectives under mpirun, for scripts/check-mpi.sh:
//
//     cluster-check sum|train|bench|gather|agree|fail|wait [FOLDER]
//
// `bench` times, on rank 0, an allreduce and the ordered sum (6 parts) of the activation model's and conv5's
// parameter counts, for docs/DISTRIBUTED.md's scaling model. `sum` prints the bit pattern hash of an ordered sum of fixed parts, which must be the same for any number of
// ranks and without mpirun; `train` prints the hashes of the parameters of a gradfeat and a finetune model after
// 20 micro-batched steps (6 micro-batches of a 12-image batch), which must be too; `gather` checks allGather and
// broadcast; `agree` and `fail` end the job through
// abort (ranks that disagree, a rank that throws); `wait` writes each rank's pid to FOLDER and waits in barriers,
// for the script to kill one rank.
import Cluster
import Dispatch
import Foundation
import GradFeat
import Layers
import Tensor

#if canImport(Glibc)
    import Glibc
#endif

struct CheckFailure: Error, CustomStringConvertible {
    let description: String
}

/// Part `p` of the sum: fixed values whose total depends on the order of the additions.
func part(_ p: Int, length: Int) -> [Float] {
    var state = UInt64(p + 1) &* 0x9E37_79B9_7F4A_7C15
    return (0..<length).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let scales: [Float] = [1e-3, 1, 1e3]
        return (Float(state >> 40) / Float(1 << 24) - 0.5) * scales[Int((state >> 20) % 3)]
    }
}

func fnv1a(_ values: [Float]) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for value in values {
        var bits = value.bitPattern
        for _ in 0..<4 {
            hash = (hash ^ UInt64(bits & 0xFF)) &* 0x100_0000_01B3
            bits >>= 8
        }
    }
    return hash
}

func run(_ mode: String, folder: String?, world: any Communicator) throws {
    switch mode {
    case "sum":
        let (partCount, length) = (12, 10_001)
        let mine = world.share(of: partCount).map { part($0, length: length) }
        let sum = try world.orderedSum(parts: mine, count: length, partCount: partCount)
        let local = try SingleProcess().orderedSum(
            parts: (0..<partCount).map { part($0, length: length) }, count: length, partCount: partCount)
        guard sum.map(\.bitPattern) == local.map(\.bitPattern) else {
            throw CheckFailure(description: "the ordered sum differs from one process's")
        }
        if world.rank == 0 { print("sum \(String(fnv1a(sum), radix: 16))") }
    case "train":
        var rng = SeededRandom(seed: 4)
        let network = BiganCIFAR.make(classes: 2, widthDivisor: 8, seed: 1)
        let images = Tensor.uniform([48, 3, 32, 32], low: 0, high: 1, using: &rng)
        let cached = try network.bottom(images, splitAt: "conv5")
        let data = try InMemoryBatches(inputs: cached, targets: .classes((0..<48).map { $0 % 2 }), classCount: 2)
        for name in ["gradfeat", "finetune"] {
            let context = ExtractorContext(
                network: network, split: "conv5", linearize: ["conv5"], classes: 2, omegaBar: network.head)
            var extractor = try ExtractorRegistry.shared.make(name, context: context)
            var configuration = TrainingConfiguration.paper(iterations: 20, seed: 9)
            (configuration.batchSize, configuration.microBatches) = (12, 6)
            var trainer = Trainer(configuration: configuration)
            (trainer.quiet, trainer.communicator) = (true, world)
            try trainer.train(&extractor, on: data, loss: SoftmaxCrossEntropy())
            if world.rank == 0 { print("\(name) \(String(fnv1a(extractor.parameters.flatMap(\.scalars)), radix: 16))") }
        }
    case "bench":
        guard let mpi = world as? MPICommunicator else { throw CheckFailure(description: "bench runs under mpirun") }
        for count in [5_130, 2_102_794] {
            var values = [Float](repeating: 1, count: count)
            let partCount = 6
            let mine = world.share(of: partCount).map { _ in values }
            func median(_ body: () throws -> Void) throws -> Double {
                var times: [Double] = []
                for _ in 0..<15 {
                    try world.barrier()
                    let start = DispatchTime.now().uptimeNanoseconds
                    try body()
                    times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                }
                return times.sorted()[times.count / 2]
            }
            let allReduce = try median { try mpi.allReduceSum(&values) }
            let ordered = try median { _ = try world.orderedSum(parts: mine, count: count, partCount: partCount) }
            if world.rank == 0 {
                print(
                    "\(count) floats, \(world.size) ranks: allreduce \(String(format: "%.2f", allReduce)) ms, "
                        + "ordered sum of \(partCount) parts \(String(format: "%.2f", ordered)) ms")
            }
        }
    case "gather":
        let mine = [UInt8](repeating: UInt8(world.rank), count: world.rank * 3 + 1)
        let all = try world.allGather(mine)
        guard all.count == world.size,
            all.enumerated().allSatisfy({ $1 == [UInt8](repeating: UInt8($0), count: $0 * 3 + 1) })
        else { throw CheckFailure(description: "allGather returned \(all)") }
        let root = world.size - 1
        let message = try world.broadcast(world.rank == root ? Array("from \(root)".utf8) : [], from: root)
        guard message == Array("from \(root)".utf8) else {
            throw CheckFailure(description: "broadcast gave \(message)")
        }
        try world.barrier()
        if world.rank == 0 { print("gather ok: \(world.size) ranks") }
    case "agree":
        try world.requireAgreement(on: world.rank == 1 ? "niter=20" : "niter=10", what: "the configuration")
        print("rank \(world.rank): agreed")
    case "fail":
        if world.rank == 1 { throw CheckFailure(description: "the check's deliberate failure") }
        while true { try world.barrier() } // the others wait in a collective: abort must still end them
    case "wait":
        guard let folder else { throw CheckFailure(description: "wait needs a folder") }
        let file = fopen("\(folder)/rank-\(world.rank).pid", "w")
        fputs("\(getpid())\n", file)
        fclose(file)
        for _ in 0..<600 {
            try world.barrier()
            usleep(100_000)
        }
        throw CheckFailure(description: "nobody killed a rank in 60 s")
    default:
        throw CheckFailure(description: "unknown mode \(mode); use sum, train, bench, gather, agree, fail or wait")
    }
}

let arguments = CommandLine.arguments.dropFirst()
do {
    let world = try Cluster.world()
    do {
        try run(arguments.first ?? "sum", folder: arguments.dropFirst().first, world: world)
    } catch {
        world.abort("\(error)")
    }
} catch {
    SingleProcess().abort("\(error)")
}
