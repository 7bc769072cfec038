#include "CKernels.h"
#include "Dispatch.h"

// The most tile origins kept on the stack (32 KB as ptrdiff_t; worker threads may have 512 KB stacks): chunks with
// more tiles take the row-by-row paths.
#define GF_STACK_ORIGINS 4096

// The planes are copied into zero-bordered ones first; then each tile element (i, j) is one flat gather over the
// tile columns from their origins (`origins`, on the stack), or, for rows of 8 or more tiles, strided copies row by
// row. ns per tile (AVX-512 build, one core): ResNet18's 28×28 layer1 planes 5.7 gathered, 3.8 row by row; its 4×4
// layer4 planes 9.4 gathered, 26 row by row.
GF_INLINE void gf_tile_body(const float *input, ptrdiff_t sampleStride, ptrdiff_t samples, ptrdiff_t height,
                            ptrdiff_t width, ptrdiff_t padY, ptrdiff_t padX, ptrdiff_t tilesY, ptrdiff_t tilesX,
                            ptrdiff_t step, ptrdiff_t size, float *tiles, ptrdiff_t tileStride, float *padded) {
    ptrdiff_t paddedHeight = step * (tilesY - 1) + size, paddedWidth = step * (tilesX - 1) + size;
    ptrdiff_t planeSize = paddedHeight * paddedWidth;
    gf_pad_planes(input, sampleStride, samples, height, width, padY, padX, paddedHeight, paddedWidth, padded);
    ptrdiff_t count = samples * tilesY * tilesX;
    if (tilesX >= 8 || count > GF_STACK_ORIGINS) {
        // Rows of 8 or more tiles (or more tiles than the stack holds origins for): strided copies along each row.
        for (ptrdiff_t i = 0; i < size; i++) {
            for (ptrdiff_t j = 0; j < size; j++) {
                float *target = tiles + (i * size + j) * tileStride;
                for (ptrdiff_t s = 0; s < samples; s++) {
                    for (ptrdiff_t ty = 0; ty < tilesY; ty++, target += tilesX) {
                        const float *row = padded + s * planeSize + (step * ty + i) * paddedWidth + j;
                        if (step == 2) {
                            for (ptrdiff_t tx = 0; tx < tilesX; tx++) target[tx] = row[2 * tx];
                        } else {
                            for (ptrdiff_t tx = 0; tx < tilesX; tx++) target[tx] = row[step * tx];
                        }
                    }
                }
            }
        }
        return;
    }
    int origins[count];
    for (ptrdiff_t s = 0, col = 0; s < samples; s++)
        for (ptrdiff_t ty = 0; ty < tilesY; ty++)
            for (ptrdiff_t tx = 0; tx < tilesX; tx++, col++)
                origins[col] = (int)(s * planeSize + step * (ty * paddedWidth + tx));
    for (ptrdiff_t i = 0; i < size; i++) {
        for (ptrdiff_t j = 0; j < size; j++) {
            const float *source = padded + i * paddedWidth + j;
            float *target = tiles + (i * size + j) * tileStride;
            for (ptrdiff_t col = 0; col < count; col++) target[col] = source[origins[col]];
        }
    }
}

GF_MULTIVERSION(gf_tile,
                (const float *input, ptrdiff_t sampleStride, ptrdiff_t samples, ptrdiff_t height, ptrdiff_t width,
                 ptrdiff_t padY, ptrdiff_t padX, ptrdiff_t tilesY, ptrdiff_t tilesX, ptrdiff_t step, ptrdiff_t size,
                 float *tiles, ptrdiff_t tileStride, float *padded),
                (input, sampleStride, samples, height, width, padY, padX, tilesY, tilesX, step, size, tiles,
                 tileStride, padded))

// Planes the tiles cover exactly: each tile element (i, j) is one flat scatter over the tile columns to their
// origins (`origins`, on the stack); otherwise (or with more tiles than GF_STACK_ORIGINS) output row by output row,
// dropping what lies past the edges.
GF_INLINE void gf_untile_body(const float *tiles, ptrdiff_t tileStride, ptrdiff_t samples, ptrdiff_t tilesY,
                              ptrdiff_t tilesX, ptrdiff_t step, float *output, ptrdiff_t sampleStride,
                              ptrdiff_t height, ptrdiff_t width, float scale, int accumulate) {
    ptrdiff_t count = samples * tilesY * tilesX;
    if (height == step * tilesY && width == step * tilesX && count <= GF_STACK_ORIGINS) {
        ptrdiff_t origins[count];
        for (ptrdiff_t s = 0, col = 0; s < samples; s++)
            for (ptrdiff_t ty = 0; ty < tilesY; ty++)
                for (ptrdiff_t tx = 0; tx < tilesX; tx++, col++)
                    origins[col] = s * sampleStride + step * (ty * width + tx);
        for (ptrdiff_t i = 0; i < step; i++) {
            for (ptrdiff_t j = 0; j < step; j++) {
                const float *source = tiles + (i * step + j) * tileStride;
                float *target = output + i * width + j;
                if (accumulate) {
                    for (ptrdiff_t col = 0; col < count; col++) target[origins[col]] += scale * source[col];
                } else {
                    for (ptrdiff_t col = 0; col < count; col++) target[origins[col]] = scale * source[col];
                }
            }
        }
        return;
    }
    for (ptrdiff_t s = 0; s < samples; s++) {
        float *plane = output + s * sampleStride;
        for (ptrdiff_t y = 0; y < height; y++) {
            ptrdiff_t ty = y / step, i = y % step;
            const float *row = tiles + i * step * tileStride + (s * tilesY + ty) * tilesX;
            float *line = plane + y * width;
            for (ptrdiff_t tx = 0, x = 0; tx < tilesX && x < width; tx++) {
                for (ptrdiff_t j = 0; j < step && x < width; j++, x++) {
                    float value = scale * row[j * tileStride + tx];
                    line[x] = accumulate ? line[x] + value : value;
                }
            }
        }
    }
}

GF_MULTIVERSION(gf_untile,
                (const float *tiles, ptrdiff_t tileStride, ptrdiff_t samples, ptrdiff_t tilesY, ptrdiff_t tilesX,
                 ptrdiff_t step, float *output, ptrdiff_t sampleStride, ptrdiff_t height, ptrdiff_t width,
                 float scale, int accumulate),
                (tiles, tileStride, samples, tilesY, tilesX, step, output, sampleStride, height, width, scale,
                 accumulate))
