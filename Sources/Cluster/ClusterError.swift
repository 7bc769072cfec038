/// What goes wrong between the processes of a job, with what to do about it.
public enum ClusterError: Error, CustomStringConvertible, Equatable {
    /// Open MPI could not be loaded or started.
    case unavailable(String)
    /// An MPI call failed.
    case mpi(call: String, code: Int32, message: String)
    /// A collective's arguments do not fit together (a programming error, reported rather than crashing).
    case mismatch(String)
    /// The ranks were started with different configurations.
    case disagreement(String)

    public var description: String {
        switch self {
        case let .unavailable(message): return message
        case let .mpi(call, code, message): return "\(call) failed (MPI error \(code)): \(message)"
        case let .mismatch(message): return "collective arguments do not fit: \(message)"
        case let .disagreement(message): return message
        }
    }
}
