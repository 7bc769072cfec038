#include "CKernels.h"
#include "Dispatch.h"

// Strided rows narrower than this are gathered rather than copied line by line (see gf_im2col_body).
#define GF_GATHER_BELOW 8

// The output positions o in [*low, *high) whose input position o·stride − pad + k lies in [0, inSize).
GF_INLINE void gf_valid_range(ptrdiff_t k, ptrdiff_t stride, ptrdiff_t pad, ptrdiff_t inSize, ptrdiff_t outSize,
                              ptrdiff_t *low, ptrdiff_t *high) {
    // o·s − p + k ≥ 0 ⇔ o ≥ ceil((p − k)/s);  o·s − p + k ≤ inSize − 1 ⇔ o ≤ floor((inSize − 1 + p − k)/s)
    ptrdiff_t lo = pad - k > 0 ? (pad - k + stride - 1) / stride : 0;
    ptrdiff_t numerator = inSize - 1 + pad - k;
    ptrdiff_t hi = numerator < 0 ? 0 : (numerator / stride + 1 < outSize ? numerator / stride + 1 : outSize);
    // None (a kernel row or column that sees only padding, as in a 5×5 kernel padded by 2 over a 1-row image): the
    // empty range at 0, so that callers zero the whole row.
    *low = lo < hi ? lo : 0;
    *high = lo < hi ? hi : 0;
}

// `body` for every column row (c, ky, kx) — its index `rowIndex` — with the output rows [ylo, yhi) and columns
// [xlo, xhi) whose input lies inside the image (im2col and its adjoint col2im walk the same rows).
#define GF_FOR_EACH_COLUMN_ROW(g, ...)                                                                                \
    for (ptrdiff_t c = 0; c < (g).channels; c++) {                                                                    \
        for (ptrdiff_t ky = 0; ky < (g).kernelHeight; ky++) {                                                         \
            ptrdiff_t ylo, yhi;                                                                                       \
            gf_valid_range(ky, (g).strideY, (g).padY, (g).height, (g).outHeight, &ylo, &yhi);                         \
            for (ptrdiff_t kx = 0; kx < (g).kernelWidth; kx++) {                                                      \
                ptrdiff_t xlo, xhi;                                                                                   \
                gf_valid_range(kx, (g).strideX, (g).padX, (g).width, (g).outWidth, &xlo, &xhi);                       \
                ptrdiff_t rowIndex = (c * (g).kernelHeight + ky) * (g).kernelWidth + kx;                              \
                __VA_ARGS__                                                                                           \
            }                                                                                                         \
        }                                                                                                             \
    }

// One output row of one column row: zeros, then the input line at `stride`, then zeros. Strides 1 and 2 run in
// vectors of 8 outputs (4 for rows of 4–7), the last one overlapping the one before (no scalar tail); stride 2 loads
// twice the inputs and keeps the even ones, so it may read one float past the line: only where `readableEnd` allows.
GF_INLINE void gf_gather_line(float *line, const float *source, ptrdiff_t lo, ptrdiff_t hi, ptrdiff_t width,
                              ptrdiff_t stride, const float *readableEnd) {
    for (ptrdiff_t o = 0; o < lo; o++) line[o] = 0;
    ptrdiff_t n = hi - lo;
    float *out = line + lo;
    const float *in = source + lo * stride;
    // `body` for o = 0, width, 2·width, … and last n − width, which overlaps the one before.
#define GF_OVERLAPPING(width, body)                                                                                   \
    for (ptrdiff_t o = 0;; o += (width)) {                                                                            \
        if (o + (width) > n) o = n - (width);                                                                         \
        body;                                                                                                         \
        if (o + (width) == n) break;                                                                                  \
    }
    int evensReadable = readableEnd - in >= 2 * n;
    if (stride == 1 && n >= 8) {
        GF_OVERLAPPING(8, GF_STORE(out + o, GF_LOAD(gf_v8, in + o)))
    } else if (stride == 2 && n >= 8 && evensReadable) {
        GF_OVERLAPPING(8, gf_v16 pair = GF_LOAD(gf_v16, in + 2 * o);
                       GF_STORE(out + o, __builtin_shufflevector(pair, pair, 0, 2, 4, 6, 8, 10, 12, 14)))
    } else if (stride == 1 && n >= 4) {
        GF_OVERLAPPING(4, GF_STORE(out + o, GF_LOAD(gf_v4, in + o)))
    } else if (stride == 2 && n >= 4 && evensReadable) {
        GF_OVERLAPPING(4, gf_v8 pair = GF_LOAD(gf_v8, in + 2 * o);
                       GF_STORE(out + o, __builtin_shufflevector(pair, pair, 0, 2, 4, 6)))
    } else {
        for (ptrdiff_t o = 0; o < n; o++) out[o] = in[o * stride];
    }
#undef GF_OVERLAPPING
    for (ptrdiff_t o = hi; o < width; o++) line[o] = 0;
}

GF_INLINE int gf_im2col_gathers(gf_convolution g) { return g.strideX > 1 && g.outWidth < GF_GATHER_BELOW; }

// Line by line, unless the lines are strided and narrower than GF_GATHER_BELOW (ResNet18's layer3.0 and layer4.0,
// bigan-cifar's conv4: 7 and 4 wide): then each column row is one flat gather over all output positions from their
// receptive fields' corners (`corners`), in planes first copied with a zero border when the convolution pads
// (`padded`). ns per column element (AVX-512 build, one core), line by line / gathered: bigan-cifar's conv4 (4 wide)
// 1.12 / 0.36, ResNet18's layer3.0 (7 wide) 0.68 / 0.53, its layer2.0 (14 wide) 0.30 / 0.41, bigan-cifar's conv2
// (13 wide) 0.30 / 0.32, the stem (56 wide) 0.17 / 0.38.
GF_INLINE void gf_im2col_body(const float *x, ptrdiff_t samples, gf_convolution g, float *columns, float *padded,
                              int *corners, const float *inputEnd) {
    ptrdiff_t positions = g.outHeight * g.outWidth, count = samples * positions;
    if (gf_im2col_gathers(g)) {
        ptrdiff_t height = g.height + 2 * g.padY, width = g.width + 2 * g.padX, plane = height * width;
        const float *source = x;
        if (g.padY > 0 || g.padX > 0) {
            gf_pad_planes(x, g.height * g.width, samples * g.channels, g.height, g.width, g.padY, g.padX, height, width,
                          padded);
            source = padded;
        }
        for (ptrdiff_t oy = 0, p = 0; oy < g.outHeight; oy++)
            for (ptrdiff_t ox = 0; ox < g.outWidth; ox++, p++) corners[p] = (int)(oy * g.strideY * width + ox * g.strideX);
        for (ptrdiff_t c = 0; c < g.channels; c++) {
            for (ptrdiff_t ky = 0; ky < g.kernelHeight; ky++) {
                for (ptrdiff_t kx = 0; kx < g.kernelWidth; kx++) {
                    float *row = columns + ((c * g.kernelHeight + ky) * g.kernelWidth + kx) * count;
                    for (ptrdiff_t n = 0; n < samples; n++) {
                        const float *field = source + (n * g.channels + c) * plane + ky * width + kx;
                        float *out = row + n * positions;
                        for (ptrdiff_t p = 0; p < positions; p++) out[p] = field[corners[p]];
                    }
                }
            }
        }
        return;
    }
    ptrdiff_t plane = g.height * g.width;
    GF_FOR_EACH_COLUMN_ROW(g, {
        float *row = columns + rowIndex * count;
        // Rows [ylo, yhi) read the input (when any column does); the others see only padding.
        ptrdiff_t first = xlo < xhi ? ylo : 0, last = xlo < xhi ? yhi : 0;
        for (ptrdiff_t n = 0; n < samples; n++) {
            float *out = row + n * positions;
            memset(out, 0, (size_t)(first * g.outWidth) * sizeof(float));
            const float *source = x + (n * g.channels + c) * plane + (first * g.strideY - g.padY + ky) * g.width
                - g.padX + kx;
            for (ptrdiff_t oy = first; oy < last; oy++, source += g.strideY * g.width)
                gf_gather_line(out + oy * g.outWidth, source, xlo, xhi, g.outWidth, g.strideX, inputEnd);
            memset(out + last * g.outWidth, 0, (size_t)((g.outHeight - last) * g.outWidth) * sizeof(float));
        }
    })
}

size_t gf_im2col_scratch(gf_convolution g, ptrdiff_t samples, size_t *corners) {
    int gathers = gf_im2col_gathers(g);
    *corners = gathers ? (size_t)(g.outHeight * g.outWidth) : 0;
    return gathers && (g.padY > 0 || g.padX > 0)
        ? (size_t)(samples * g.channels * (g.height + 2 * g.padY) * (g.width + 2 * g.padX)) : 0;
}

GF_MULTIVERSION(gf_im2col,
                (const float *x, ptrdiff_t samples, gf_convolution geometry, float *columns, float *padded,
                 int *corners, const float *inputEnd),
                (x, samples, geometry, columns, padded, corners, inputEnd))

GF_INLINE void gf_col2im_body(const float *columns, ptrdiff_t samples, gf_convolution g, float *dx) {
    ptrdiff_t positions = g.outHeight * g.outWidth, count = samples * positions;
    ptrdiff_t plane = g.height * g.width;
    memset(dx, 0, (size_t)(samples * g.channels * plane) * sizeof(float));
    GF_FOR_EACH_COLUMN_ROW(g, {
        if (xlo >= xhi) continue;
        const float *row = columns + rowIndex * count;
        for (ptrdiff_t n = 0; n < samples; n++) {
            const float *in = row + n * positions;
            float *target = dx + (n * g.channels + c) * plane + (ylo * g.strideY - g.padY + ky) * g.width - g.padX + kx;
            for (ptrdiff_t oy = ylo; oy < yhi; oy++, target += g.strideY * g.width) {
                const float *line = in + oy * g.outWidth;
                if (g.strideX == 1) {
                    for (ptrdiff_t o = xlo; o < xhi; o++) target[o] += line[o];
                } else {
                    for (ptrdiff_t o = xlo; o < xhi; o++) target[o * g.strideX] += line[o];
                }
            }
        }
    })
}

GF_MULTIVERSION(gf_col2im, (const float *columns, ptrdiff_t samples, gf_convolution geometry, float *dx),
                (columns, samples, geometry, dx))
