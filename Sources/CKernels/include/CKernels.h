// Small numeric kernels in C, for the one thing Swift cannot do: compile a loop for several instruction sets and pick
// one at run time (AVX-512, AVX2 + FMA, or the baseline), so that a portable build still uses the machine's widest
// vectors.
#ifndef GRADFEAT_CKERNELS_H
#define GRADFEAT_CKERNELS_H

#include <stddef.h>

/// The two-sided transform of many small tiles at once, tile t being column t of `source`:
/// target[(k · outSize + l) · targetStride + t] = Σ_i Σ_j matrix[k][i] · matrix[l][j] · source[(i · inSize + j) · sourceStride + t]
/// for k, l < outSize ≤ 8 and i, j < inSize ≤ 8 (`matrix` is outSize × inSize, row-major; zeros are skipped).
void gf_transform_tiles(const float *source, ptrdiff_t sourceStride, ptrdiff_t count, ptrdiff_t inSize,
                        ptrdiff_t outSize, const float *matrix, float *target, ptrdiff_t targetStride);

/// Cuts `samples` planes (height × width, `sampleStride` apart) into size × size tiles, `step` apart, the planes
/// padded by padY rows and padX columns of zeros (tiles reaching past the padded plane also read zeros):
/// tiles[(i · size + j) · tileStride + col] = input[s][step · ty + i − padY][step · tx + j − padX]
/// for col = (s · tilesY + ty) · tilesX + tx. `padded` is scratch for `samples` padded planes of
/// (step · (tilesY − 1) + size) × (step · (tilesX − 1) + size) floats.
void gf_tile(const float *input, ptrdiff_t sampleStride, ptrdiff_t samples, ptrdiff_t height, ptrdiff_t width,
             ptrdiff_t padY, ptrdiff_t padX, ptrdiff_t tilesY, ptrdiff_t tilesX, ptrdiff_t step, ptrdiff_t size,
             float *tiles, ptrdiff_t tileStride, float *padded);

/// The inverse of `gf_tile` for non-overlapping step × step tiles: output[s][step · ty + i][step · tx + j] (+)=
/// scale · tiles[(i · step + j) · tileStride + col] inside the height × width planes (`sampleStride` apart); tile
/// elements past the plane's edge are dropped. Accumulates when `accumulate` is nonzero, else overwrites.
void gf_untile(const float *tiles, ptrdiff_t tileStride, ptrdiff_t samples, ptrdiff_t tilesY, ptrdiff_t tilesX,
               ptrdiff_t step, float *output, ptrdiff_t sampleStride, ptrdiff_t height, ptrdiff_t width, float scale,
               int accumulate);

/// The geometry of a 2-D convolution over `samples` NCHW planes, for `gf_im2col` and `gf_col2im`.
typedef struct {
    ptrdiff_t channels, height, width, kernelHeight, kernelWidth, strideY, strideX, padY, padX, outHeight, outWidth;
} gf_convolution;

/// Columns [C·kh·kw, samples·Ho·Wo] of the samples at `x`: row (c, ky, kx), column (n, oy, ox) holds
/// x[n, c, oy·strideY − padY + ky, ox·strideX − padX + kx], or 0 in the padding. `padded` and `corners` are scratch
/// of the sizes `gf_im2col_scratch` gives (either may be NULL when its size is 0); `inputEnd` is the end of the
/// readable input (vector loads may read up to it past a line's last element).
void gf_im2col(const float *x, ptrdiff_t samples, gf_convolution geometry, float *columns, float *padded,
               int *corners, const float *inputEnd);

/// The floats of `gf_im2col`'s `padded` scratch (the return value) and the ints of its `corners`.
size_t gf_im2col_scratch(gf_convolution geometry, ptrdiff_t samples, size_t *corners);

/// The adjoint of `gf_im2col`: dx (the samples' planes, overwritten) = the sum of each column entry at its input
/// position.
void gf_col2im(const float *columns, ptrdiff_t samples, gf_convolution geometry, float *dx);

/// The build of the kernels that runs on this thread: "avx512", "avx2" or "baseline" (the widest the CPU supports,
/// unless this thread chose another).
const char *gf_kernel_isa(void);

/// Runs the kernels' `name` build ("avx512", "avx2" or "baseline") on this thread from now on (tests); returns 0, and
/// changes nothing, when the CPU cannot run it. Other threads keep theirs, so tests running at the same time are not
/// affected; `Parallel` hands the choice to the workers of each region (`gf_thread_isa`, `gf_set_thread_isa`).
int gf_use_isa(const char *name);

/// This thread's chosen build (an index, or -1 for none), and setting it (-1 clears the choice).
int gf_thread_isa(void);
void gf_set_thread_isa(int choice);

#endif
