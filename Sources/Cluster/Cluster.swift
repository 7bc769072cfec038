#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Which job this process belongs to. A process that `mpirun` started (Open MPI sets `OMPI_COMM_WORLD_SIZE`) joins
/// MPI_COMM_WORLD through Open MPI's `libmpi`, opened at run time — so GradFeat, and a package that depends on it,
/// build and run where Open MPI is not installed; any other process is a ``SingleProcess``.
public enum Cluster {
    /// The library opened under `mpirun`: `GRADFEAT_MPI_LIBRARY` if set, else Open MPI 4's soname.
    public static var library: String { environment("GRADFEAT_MPI_LIBRARY") ?? "libmpi.so.40" }

    /// The number of ranks `mpirun` announced for this process, or nil when it was not started by `mpirun`.
    public static var launchedSize: Int? {
        environment("OMPI_COMM_WORLD_SIZE").flatMap { Int($0) }
    }

    /// This process's job: MPI when `mpirun` started it, else one process. The first call under `mpirun`
    /// initialises MPI; every later call returns the same communicator.
    public static func world() throws -> any Communicator {
        guard launchedSize != nil else { return SingleProcess() }
        return try shared.world()
    }

    /// The share of `0..<count` that part `rank` of `size` owns: contiguous, balanced (sizes differ by at most one),
    /// in order. Ranks own shares of the data this way, and a global batch is cut into micro-batches this way.
    public static func share(of count: Int, rank: Int, size: Int) -> Range<Int> {
        (count * rank / size)..<(count * (rank + 1) / size)
    }

    private static let shared = SharedWorld()

    /// Writes `message` to standard error unbuffered, so it is out before the process ends.
    static func writeError(_ message: String) {
        var message = message
        message.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
    }

    /// The NUL-terminated text in `characters`.
    static func text(_ characters: [CChar]) -> String {
        String(decoding: characters.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }
}

/// The one MPI communicator of a process, made on first use.
private final class SharedWorld: @unchecked Sendable {
    // @unchecked: `communicator` is only touched under `lock`.
    private var communicator: MPICommunicator?
    private var lock = pthread_mutex_t()

    init() { pthread_mutex_init(&lock, nil) }
    deinit { pthread_mutex_destroy(&lock) }

    func world() throws -> MPICommunicator {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        if let communicator { return communicator }
        let made = try MPICommunicator(library: Cluster.library)
        communicator = made
        return made
    }
}
