import CRuntime

/// How the process's allocator treats tensor storage.
///
/// A training step allocates and frees the same large tensors (layer outputs, tangents, gradients) every step.
/// glibc serves blocks above its mmap threshold with fresh `mmap`s and trims the heap's free top, so each step's
/// tensors arrived as new pages the kernel had to zero: 22 % of a bigan-cifar step from images went to page faults
/// (perf, before this policy). Keeping freed blocks in the heap makes later steps reuse warm memory; the process
/// keeps its peak footprint instead of returning it between steps. Blocks above 32 MB (glibc's limit for the
/// threshold) are still mapped afresh.
enum MemoryPolicy {
    /// Applied once, before the first tensor is allocated.
    static let applied: Void = gradfeat_keep_freed_memory()
}
