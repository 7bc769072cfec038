#include "CKernels.h"
#include "Dispatch.h"

// Both sides in one pass over 16 tiles at a time: the rows of `matrix · tile` for one k stay in registers, so the
// intermediate never goes to memory.
#define GF_TRANSFORM_TILES_STEP(vector, width, load)                                                          \
    for (; t + (width) <= count; t += (width)) {                                                                     \
        for (ptrdiff_t k = 0; k < outSize; k++) {                                                                    \
            vector row[8];                                                                                           \
            for (ptrdiff_t j = 0; j < inSize; j++) {                                                                 \
                vector sum = {0};                                                                                    \
                for (ptrdiff_t i = 0; i < inSize; i++) {                                                             \
                    float a = matrix[k * inSize + i];                                                                \
                    if (a != 0) sum += a * load(source + (i * inSize + j) * sourceStride + t);                       \
                }                                                                                                    \
                row[j] = sum;                                                                                        \
            }                                                                                                        \
            for (ptrdiff_t l = 0; l < outSize; l++) {                                                                \
                vector sum = {0};                                                                                    \
                for (ptrdiff_t j = 0; j < inSize; j++) {                                                             \
                    float a = matrix[l * inSize + j];                                                                \
                    if (a != 0) sum += a * row[j];                                                                   \
                }                                                                                                    \
                GF_STORE(target + (k * outSize + l) * targetStride + t, sum);                                           \
            }                                                                                                        \
        }                                                                                                            \
    }

#define GF_LOAD16(p) GF_LOAD(gf_v16, p)
#define GF_LOAD8(p) GF_LOAD(gf_v8, p)
#define GF_LOAD4(p) GF_LOAD(gf_v4, p)
#define GF_LOAD1(p) (*(p))

GF_INLINE void gf_transform_tiles_any(const float *source, ptrdiff_t sourceStride, ptrdiff_t count, ptrdiff_t inSize,
                                      ptrdiff_t outSize, const float *matrix, float *target, ptrdiff_t targetStride) {
    ptrdiff_t t = 0;
    GF_TRANSFORM_TILES_STEP(gf_v16, 16, GF_LOAD16)
    GF_TRANSFORM_TILES_STEP(gf_v8, 8, GF_LOAD8)
    GF_TRANSFORM_TILES_STEP(gf_v4, 4, GF_LOAD4)
    GF_TRANSFORM_TILES_STEP(float, 1, GF_LOAD1)
}

// The sizes the Winograd algorithms use are spelled out, so that the compiler unrolls their loops.
GF_INLINE void gf_transform_tiles_body(const float *source, ptrdiff_t sourceStride, ptrdiff_t count, ptrdiff_t inSize,
                                       ptrdiff_t outSize, const float *matrix, float *target, ptrdiff_t targetStride) {
#define GF_SIZES(in, out)                                                                                             \
    if (inSize == (in) && outSize == (out))                                                                           \
        return gf_transform_tiles_any(source, sourceStride, count, in, out, matrix, target, targetStride);
    GF_SIZES(4, 4) GF_SIZES(4, 2) GF_SIZES(8, 8) GF_SIZES(8, 5)
#undef GF_SIZES
    gf_transform_tiles_any(source, sourceStride, count, inSize, outSize, matrix, target, targetStride);
}

GF_MULTIVERSION(gf_transform_tiles,
                (const float *source, ptrdiff_t sourceStride, ptrdiff_t count, ptrdiff_t inSize, ptrdiff_t outSize,
                 const float *matrix, float *target, ptrdiff_t targetStride),
                (source, sourceStride, count, inSize, outSize, matrix, target, targetStride))
