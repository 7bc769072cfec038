import Tensor

/// Runs `body` once with each build of the C kernels this CPU can run (`KernelInstructionSet`), passing its name, and
/// restores the build that was in use: the AVX2 and baseline builds are otherwise never run on an AVX-512 machine. The
/// choice holds on this thread and its parallel regions only, so tests running beside it keep the default build.
public func forEachKernelBuild(_ body: (String) throws -> Void) rethrows {
    for build in KernelInstructionSet.supported {
        try KernelInstructionSet.withBuild(build) { try body(build) }
    }
}
