import CKernels

/// The build of the C kernels (`CKernels`: Winograd tile transforms, …) that runs. They are compiled three times —
/// AVX-512, AVX2 + FMA and the x86-64 baseline — and the widest the CPU supports runs, so that one portable binary
/// uses the machine's vectors (Swift itself compiles for the baseline). Other architectures have one build.
public enum KernelInstructionSet {
    /// Every build, narrowest first.
    public static let all = ["baseline", "avx2", "avx512"]

    /// The build in use: "avx512", "avx2" or "baseline".
    public static var active: String { String(cString: gf_kernel_isa()) }

    /// Runs `name`'s build from now on (tests run every build); false, changing nothing, when this CPU cannot.
    @discardableResult
    public static func use(_ name: String) -> Bool { gf_use_isa(name) != 0 }

    /// The builds this CPU can run.
    public static var supported: [String] {
        let current = active
        defer { use(current) }
        return all.filter { use($0) }
    }
}
