#ifndef GRADFEAT_CJPEG_SHIM_H
#define GRADFEAT_CJPEG_SHIM_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>

/* libjpeg reports fatal errors through error_exit, which by default calls exit(). Swift cannot use
   setjmp/longjmp, so decoding and encoding run here: errors longjmp back and come out as a return
   code plus a message. Corrupt-data warnings (e.g. "Premature end of JPEG file") are counted and
   the first one is kept, so the caller can treat them as failures. */

#define GF_JPEG_MESSAGE_CAPACITY 200

typedef struct gf_jpeg_error_manager {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    int warnings;
    char message[GF_JPEG_MESSAGE_CAPACITY];
} gf_jpeg_error_manager;

static inline void gf_jpeg_error_exit(j_common_ptr cinfo) {
    gf_jpeg_error_manager *manager = (gf_jpeg_error_manager *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, manager->message);
    longjmp(manager->jump, 1);
}

static inline void gf_jpeg_emit_message(j_common_ptr cinfo, int level) {
    gf_jpeg_error_manager *manager = (gf_jpeg_error_manager *)cinfo->err;
    if (level < 0) { /* warning: keep the first one, never print */
        if (manager->warnings == 0) {
            (*cinfo->err->format_message)(cinfo, manager->message);
        }
        manager->warnings += 1;
        cinfo->err->num_warnings += 1;
    }
}

static inline void gf_jpeg_output_message(j_common_ptr cinfo) { (void)cinfo; }

/* Resets `manager` and routes libjpeg's errors and warnings to it (the caller still sets its jump point). */
static inline struct jpeg_error_mgr *gf_jpeg_errors(gf_jpeg_error_manager *manager) {
    memset(manager, 0, sizeof(*manager));
    struct jpeg_error_mgr *base = jpeg_std_error(&manager->base);
    manager->base.error_exit = gf_jpeg_error_exit;
    manager->base.emit_message = gf_jpeg_emit_message;
    manager->base.output_message = gf_jpeg_output_message;
    return base;
}

/* Decodes a JPEG held in memory into interleaved 8-bit pixels (HWC, row-major) with `channels`
   components (1 = grey, 3 = RGB; libjpeg-turbo converts grey to RGB and back).
   On success returns 0 and stores a malloc'ed buffer of height*width*channels bytes in *pixels
   (the caller frees it with free()). CMYK/YCCK files are converted to RGB here. Returns 1 on a fatal error and 2 when the data decoded only
   with corrupt-data warnings (no buffer is returned); `message` (GF_JPEG_MESSAGE_CAPACITY bytes)
   then holds libjpeg's text. */
static inline int gf_jpeg_decode(const unsigned char *data, unsigned long size, int channels, size_t max_pixels,
                                 unsigned char **pixels, int *width, int *height, char *message) {
    struct jpeg_decompress_struct cinfo;
    gf_jpeg_error_manager manager;
    unsigned char *volatile buffer = NULL;
    *pixels = NULL;
    *width = 0;
    *height = 0;
    message[0] = 0;
    cinfo.err = gf_jpeg_errors(&manager);
    if (setjmp(manager.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(buffer);
        strncpy(message, manager.message, GF_JPEG_MESSAGE_CAPACITY - 1);
        message[GF_JPEG_MESSAGE_CAPACITY - 1] = 0;
        return 1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, size);
    jpeg_read_header(&cinfo, TRUE);
    /* The header's size is checked before anything is allocated or decoded (a 1 KB file can claim 65000x65000). */
    if ((size_t)cinfo.image_width * (size_t)cinfo.image_height > max_pixels) {
        *width = (int)cinfo.image_width;
        *height = (int)cinfo.image_height;
        jpeg_destroy_decompress(&cinfo);
        return 3;
    }
    /* libjpeg cannot convert CMYK/YCCK to RGB: decode as CMYK and convert below. */
    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    cinfo.out_color_space = cmyk ? JCS_CMYK : (channels == 1 ? JCS_GRAYSCALE : JCS_RGB);
    jpeg_start_decompress(&cinfo);
    size_t stride = (size_t)cinfo.output_width * (size_t)cinfo.output_components;
    buffer = (unsigned char *)malloc(stride * cinfo.output_height + 1);
    if (buffer == NULL) {
        jpeg_destroy_decompress(&cinfo);
        strncpy(message, "out of memory", GF_JPEG_MESSAGE_CAPACITY - 1);
        return 1;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = buffer + stride * cinfo.output_scanline;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    if (cmyk) {
        /* Adobe writes inverted CMYK; convert to RGB (or grey) in place, front to back. */
        int inverted = cinfo.saw_Adobe_marker;
        size_t pixels_count = (size_t)cinfo.output_width * cinfo.output_height;
        for (size_t i = 0; i < pixels_count; i++) {
            unsigned int c = buffer[4 * i], m = buffer[4 * i + 1], y = buffer[4 * i + 2];
            unsigned int k = buffer[4 * i + 3];
            if (!inverted) { c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k; }
            unsigned int r = (c * k + 127) / 255, g = (m * k + 127) / 255, b = (y * k + 127) / 255;
            if (channels == 1) {
                buffer[i] = (unsigned char)((r * 299 + g * 587 + b * 114 + 500) / 1000);
            } else {
                buffer[3 * i] = (unsigned char)r;
                buffer[3 * i + 1] = (unsigned char)g;
                buffer[3 * i + 2] = (unsigned char)b;
            }
        }
    }
    jpeg_finish_decompress(&cinfo);
    *width = (int)cinfo.output_width;
    *height = (int)cinfo.output_height;
    jpeg_destroy_decompress(&cinfo);
    if (manager.warnings > 0) {
        free(buffer);
        strncpy(message, manager.message, GF_JPEG_MESSAGE_CAPACITY - 1);
        message[GF_JPEG_MESSAGE_CAPACITY - 1] = 0;
        return 2;
    }
    *pixels = buffer;
    return 0;
}

/* Encodes interleaved 8-bit pixels (HWC; 1 or 3 channels) as a baseline JPEG of the given quality.
   On success returns 0 and stores a malloc'ed buffer in *output / *output_size (free() it). */
static inline int gf_jpeg_encode(const unsigned char *pixels, int width, int height, int channels,
                                 int quality, unsigned char **output, unsigned long *output_size,
                                 char *message) {
    struct jpeg_compress_struct cinfo;
    gf_jpeg_error_manager manager;
    *output = NULL;
    *output_size = 0;
    message[0] = 0;
    cinfo.err = gf_jpeg_errors(&manager);
    if (setjmp(manager.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(*output);
        *output = NULL;
        strncpy(message, manager.message, GF_JPEG_MESSAGE_CAPACITY - 1);
        message[GF_JPEG_MESSAGE_CAPACITY - 1] = 0;
        return 1;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, output, output_size);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = channels;
    cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    size_t stride = (size_t)width * (size_t)channels;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + stride * cinfo.next_scanline);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    return 0;
}
#endif
