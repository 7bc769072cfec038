#ifndef GRADFEAT_CLZMA_SHIM_H
#define GRADFEAT_CLZMA_SHIM_H
#include <lzma.h>

/* LZMA_STREAM_INIT is a macro Swift cannot import; a zeroed stream is what it expands to. */
static inline lzma_stream gf_lzma_stream_init(void) {
    lzma_stream stream = LZMA_STREAM_INIT;
    return stream;
}
/* LZMA_CONCATENATED is a macro of a cast expression; exposed as a value. */
static const uint32_t gf_lzma_concatenated = LZMA_CONCATENATED;
#endif
