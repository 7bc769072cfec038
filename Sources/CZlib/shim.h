#ifndef GRADFEAT_CZLIB_SHIM_H
#define GRADFEAT_CZLIB_SHIM_H
#include <zlib.h>

/* zlib's init functions are macros (they pass ZLIB_VERSION and sizeof(z_stream)); Swift cannot
   import function-like macros, so these wrappers expose them. */

/* Inflate gzip or zlib streams (window bits 15 + 32: automatic header detection). */
static inline int gf_inflate_init_auto(z_stream *strm) {
    return inflateInit2(strm, 15 + 32);
}

/* Deflate with a gzip header (window bits 15 + 16) or a zlib header (window bits 15). */
static inline int gf_deflate_init(z_stream *strm, int level, int gzip_header) {
    return deflateInit2(strm, level, Z_DEFLATED, gzip_header ? 15 + 16 : 15, 8, Z_DEFAULT_STRATEGY);
}
#endif
