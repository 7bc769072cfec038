// The C runtime's allocator controls (glibc's <malloc.h>), which Swift's Glibc module does not export.
#ifndef GRADFEAT_CRUNTIME_SHIM_H
#define GRADFEAT_CRUNTIME_SHIM_H
#if defined(__linux__)
#include <malloc.h>
#endif

/// Keeps freed blocks up to 32 MB (glibc's largest mmap threshold) in the heap and never trims its free top;
/// nothing on a C library without these controls (musl, Darwin).
static inline void gradfeat_keep_freed_memory(void) {
#if defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 0x7fffffff);
#endif
}
#endif
