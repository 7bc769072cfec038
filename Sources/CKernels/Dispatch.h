// One kernel body, three builds: `GF_MULTIVERSION(name, params, args)` defines `name` to call the AVX-512, AVX2 + FMA
// or baseline build of `name##_body` (an always-inline function), whichever `gf_active_isa()` names: the widest the
// CPU has, unless this thread chose another (`gf_use_isa`: tests run every build). Elsewhere than x86-64 it calls the
// body.
#ifndef GRADFEAT_DISPATCH_H
#define GRADFEAT_DISPATCH_H

#include <string.h>

typedef float gf_v16 __attribute__((vector_size(64), aligned(4)));
typedef float gf_v8 __attribute__((vector_size(32), aligned(4)));
typedef float gf_v4 __attribute__((vector_size(16), aligned(4)));

#define GF_INLINE static inline __attribute__((always_inline))

// Unaligned vector loads and stores (macros: vectors passed by value to a helper would change the baseline's ABI).
#define GF_LOAD(vector, p) ({ vector gf_value_; memcpy(&gf_value_, (p), sizeof gf_value_); gf_value_; })
#define GF_STORE(p, value) do { __typeof__(value) gf_value_ = (value); memcpy((p), &gf_value_, sizeof gf_value_); } while (0)

// Copies (or zeroes, with `source` NULL) n floats: short runs inline, in vectors, since a libc call per short row
// (the 4-float rows of ResNet18's 4×4 planes) cost more than the copy; long runs call memcpy / memset.
GF_INLINE void gf_copy_floats(float *target, const float *source, ptrdiff_t n) {
    if (n >= 64) {
        if (source) memcpy(target, source, (size_t)n * sizeof(float));
        else memset(target, 0, (size_t)n * sizeof(float));
        return;
    }
    gf_v4 zero = {0};
    ptrdiff_t i = 0;
    for (; i + 4 <= n; i += 4) {
        gf_v4 v = zero;
        if (source) memcpy(&v, source + i, sizeof v);
        memcpy(target + i, &v, sizeof v);
    }
    switch (n - i) {
    case 3: target[i + 2] = source ? source[i + 2] : 0; /* fall through */
    case 2: target[i + 1] = source ? source[i + 1] : 0; /* fall through */
    case 1: target[i] = source ? source[i] : 0;
    }
}

enum gf_isa { GF_BASELINE, GF_AVX2, GF_AVX512 };
enum gf_isa gf_active_isa(void);

// Copies `planes` planes (height × width; plane p at input + p · inputStride) into zero-bordered ones of
// paddedHeight × paddedWidth at `padded`, input row y at row padY + y from column padX; what falls past the padded
// plane is dropped, what the input does not cover is zero. im2col's gathers and the Winograd tiles read these.
GF_INLINE void gf_pad_planes(const float *input, ptrdiff_t inputStride, ptrdiff_t planes, ptrdiff_t height,
                             ptrdiff_t width, ptrdiff_t padY, ptrdiff_t padX, ptrdiff_t paddedHeight,
                             ptrdiff_t paddedWidth, float *padded) {
    ptrdiff_t rows = height < paddedHeight - padY ? height : paddedHeight - padY;
    ptrdiff_t columns = width < paddedWidth - padX ? width : paddedWidth - padX;
    if (rows < 0) rows = 0;
    if (columns < 0) columns = 0;
    // The whole plane zeroed, then the rows copied: for the small planes of deep layers a few calls per row to zero
    // the borders alone cost more (4×4 planes: 12 against 8 ns per tile cut).
    for (ptrdiff_t p = 0; p < planes; p++) {
        float *plane = padded + p * paddedHeight * paddedWidth;
        gf_copy_floats(plane, NULL, paddedHeight * paddedWidth);
        for (ptrdiff_t y = 0; y < rows; y++)
            gf_copy_floats(plane + (padY + y) * paddedWidth + padX, input + p * inputStride + y * width, columns);
    }
}

#if defined(__x86_64__)
#define GF_MULTIVERSION(name, params, args)                                                                           \
    __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma"))) static void name##_avx512 params {         \
        name##_body args;                                                                                             \
    }                                                                                                                 \
    __attribute__((target("avx2,fma"))) static void name##_avx2 params { name##_body args; }                          \
    static void name##_baseline params { name##_body args; }                                                          \
    void name params {                                                                                                \
        switch (gf_active_isa()) {                                                                                    \
        case GF_AVX512: name##_avx512 args; break;                                                                    \
        case GF_AVX2: name##_avx2 args; break;                                                                        \
        default: name##_baseline args; break;                                                                         \
        }                                                                                                             \
    }
#else
#define GF_MULTIVERSION(name, params, args)                                                                           \
    void name params { name##_body args; }
#endif

#endif
