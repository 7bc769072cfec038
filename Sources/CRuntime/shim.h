// The C runtime's allocator controls (glibc's <malloc.h>), which Swift's Glibc module does not export.
#ifndef GRADFEAT_CRUNTIME_SHIM_H
#define GRADFEAT_CRUNTIME_SHIM_H
#if defined(__GLIBC__) || defined(__linux__)
#include <malloc.h>
/// Keeps freed blocks up to 32 MB (glibc's largest mmap threshold) in the heap and never trims its free top.
static inline void gradfeat_keep_freed_memory(void) {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 0x7fffffff);
}
#else
static inline void gradfeat_keep_freed_memory(void) {}
#endif
#endif
