import Tensor

/// Runs `body` once with each build of the C kernels this CPU can run (`KernelInstructionSet`), passing its name, and
/// restores the build that was in use: the AVX2 and baseline builds are otherwise never run on an AVX-512 machine.
public func forEachKernelBuild(_ body: (String) throws -> Void) rethrows {
    let active = KernelInstructionSet.active
    defer { KernelInstructionSet.use(active) }
    for build in KernelInstructionSet.supported {
        KernelInstructionSet.use(build)
        try body(build)
    }
}
