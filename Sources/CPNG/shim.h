#ifndef GRADFEAT_CPNG_SHIM_H
#define GRADFEAT_CPNG_SHIM_H
#include <stdlib.h>
#include <string.h>
#include <png.h>

/* libpng's simplified API (png_image) reports errors in image.message instead of longjmp-ing into
   the caller; these wrappers hide its macros (PNG_IMAGE_VERSION, PNG_IMAGE_SIZE, formats). */

#define GF_PNG_MESSAGE_CAPACITY 64

/* Decodes a PNG held in memory into 8-bit interleaved pixels (HWC) with `channels` components
   (1 = grey, 3 = RGB; alpha is composited onto black). On success returns 0 and stores a malloc'ed
   buffer in *pixels (free() it). Returns 1 on error with libpng's text in `message`. */
static inline int gf_png_decode(const unsigned char *data, size_t size, int channels, size_t max_pixels,
                                unsigned char **pixels, int *width, int *height, char *message) {
    png_image image;
    *pixels = NULL;
    *width = 0;
    *height = 0;
    message[0] = 0;
    memset(&image, 0, sizeof(image));
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&image, data, size)) {
        strncpy(message, image.message, GF_PNG_MESSAGE_CAPACITY - 1);
        message[GF_PNG_MESSAGE_CAPACITY - 1] = 0;
        return 1;
    }
    /* The header's size is checked before anything is allocated or decoded. */
    if ((size_t)image.width * (size_t)image.height > max_pixels) {
        *width = (int)image.width;
        *height = (int)image.height;
        png_image_free(&image);
        return 3;
    }
    image.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    size_t bytes = PNG_IMAGE_SIZE(image);
    unsigned char *buffer = (unsigned char *)malloc(bytes + 1);
    if (buffer == NULL) {
        png_image_free(&image);
        strncpy(message, "out of memory", GF_PNG_MESSAGE_CAPACITY - 1);
        return 1;
    }
    png_color background = {0, 0, 0};
    if (!png_image_finish_read(&image, &background, buffer, 0, NULL)) {
        free(buffer);
        strncpy(message, image.message, GF_PNG_MESSAGE_CAPACITY - 1);
        message[GF_PNG_MESSAGE_CAPACITY - 1] = 0;
        png_image_free(&image);
        return 1;
    }
    *width = (int)image.width;
    *height = (int)image.height;
    *pixels = buffer;
    return 0;
}

/* Encodes 8-bit interleaved pixels (HWC; 1 or 3 channels) as PNG. On success returns 0 and stores a
   malloc'ed buffer in *output / *output_size (free() it). */
static inline int gf_png_encode(const unsigned char *pixels, int width, int height, int channels,
                                unsigned char **output, size_t *output_size, char *message) {
    png_image image;
    *output = NULL;
    *output_size = 0;
    message[0] = 0;
    memset(&image, 0, sizeof(image));
    image.version = PNG_IMAGE_VERSION;
    image.width = (png_uint_32)width;
    image.height = (png_uint_32)height;
    image.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    size_t bytes = 0;
    if (!png_image_write_to_memory(&image, NULL, &bytes, 0, pixels, 0, NULL)) {
        strncpy(message, image.message, GF_PNG_MESSAGE_CAPACITY - 1);
        message[GF_PNG_MESSAGE_CAPACITY - 1] = 0;
        return 1;
    }
    unsigned char *buffer = (unsigned char *)malloc(bytes + 1);
    if (buffer == NULL) {
        strncpy(message, "out of memory", GF_PNG_MESSAGE_CAPACITY - 1);
        return 1;
    }
    if (!png_image_write_to_memory(&image, buffer, &bytes, 0, pixels, 0, NULL)) {
        free(buffer);
        strncpy(message, image.message, GF_PNG_MESSAGE_CAPACITY - 1);
        message[GF_PNG_MESSAGE_CAPACITY - 1] = 0;
        return 1;
    }
    *output = buffer;
    *output_size = bytes;
    return 0;
}
#endif
