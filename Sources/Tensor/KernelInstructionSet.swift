import CKernels

/// The build of the C kernels (`CKernels`: Winograd tile transforms, …) that runs. They are compiled three times —
/// AVX-512, AVX2 + FMA and the x86-64 baseline — and the widest the CPU supports runs, so that one portable binary
/// uses the machine's vectors (Swift itself compiles for the baseline). Other architectures have one build.
public enum KernelInstructionSet {
    /// Every build, narrowest first.
    public static let all = ["baseline", "avx2", "avx512"]

    /// The build this thread runs: "avx512", "avx2" or "baseline".
    public static var active: String { String(cString: gf_kernel_isa()) }

    /// Runs `name`'s build on this thread, and in the workers of the parallel regions it starts, from now on (tests
    /// run every build; other threads keep theirs); false, changing nothing, when this CPU cannot.
    @discardableResult
    public static func use(_ name: String) -> Bool { gf_use_isa(name) != 0 }

    /// Runs `body` with `name`'s build on this thread and in its parallel regions, then restores this thread's
    /// choice; nil, without running `body`, when this CPU cannot run that build.
    public static func withBuild<R>(_ name: String, _ body: () throws -> R) rethrows -> R? {
        let previous = gf_thread_isa()
        guard gf_use_isa(name) != 0 else { return nil }
        defer { gf_set_thread_isa(previous) }
        return try body()
    }

    /// The builds this CPU can run.
    public static var supported: [String] { all.filter { withBuild($0) { true } ?? false } }
}
