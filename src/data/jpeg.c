/* JPEG decoding with libjpeg(-turbo) from a buffer in memory.
 * libjpeg reports errors through error_exit, which must not return: it
 * longjmps back to the call, which frees everything and returns a status
 * naming the file. Warnings (corrupt data, a truncated file that libjpeg
 * would pad with grey) are errors too, so no partial image is returned.
 * A progress monitor bounds the number of scans of a progressive file
 * (each scan re-reads the whole coefficient buffer: thousands of tiny
 * scans make a small file decode for minutes). */
#include "vgg/image.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#define MAX_SCANS 256 /* libjpeg-turbo's djpeg -maxscans suggests 500 */

typedef struct jpeg_ctx {
    struct jpeg_error_mgr mgr; /* first: libjpeg casts cinfo->err to it */
    struct jpeg_progress_mgr progress;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX + 64];
} jpeg_ctx;

static void on_jpeg_error(j_common_ptr cinfo) {
    jpeg_ctx *ctx = (jpeg_ctx *)cinfo->err;
    char buf[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, buf);
    snprintf(ctx->msg, sizeof ctx->msg, "%s", buf);
    longjmp(ctx->jump, 1);
}

/* level -1 is a warning (corrupt or truncated data); higher levels are
 * trace messages, ignored. */
static void on_jpeg_message(j_common_ptr cinfo, int level) {
    if (level < 0) on_jpeg_error(cinfo);
}

static void on_jpeg_progress(j_common_ptr cinfo) {
    jpeg_ctx *ctx = (jpeg_ctx *)cinfo->err;
    if (cinfo->is_decompressor) {
        int scan = ((j_decompress_ptr)cinfo)->input_scan_number;
        if (scan > MAX_SCANS) {
            snprintf(ctx->msg, sizeof ctx->msg,
                     "more than %d progressive scans", MAX_SCANS);
            longjmp(ctx->jump, 1);
        }
    }
}

static uint8_t mul255(int a, int b) { return (uint8_t)((a * b + 127) / 255); }

vgg_status vgg_jpeg_decode(const uint8_t *data, size_t n, const char *name,
                           long max_pixels, vgg_image *img, vgg_error *err) {
    img->width = img->height = 0;
    img->rgb = NULL;
    volatile long limit = max_pixels > 0 ? max_pixels : VGG_IMAGE_MAX_PIXELS;
    if (n < 3 || data[0] != 0xFF || data[1] != 0xD8 || data[2] != 0xFF)
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: not a JPEG file (no FF D8 FF at the start)", name);
    struct jpeg_decompress_struct cinfo;
    jpeg_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    cinfo.err = jpeg_std_error(&ctx.mgr);
    ctx.mgr.error_exit = on_jpeg_error;
    ctx.mgr.emit_message = on_jpeg_message;
    uint8_t *volatile pixels = NULL;
    uint8_t *volatile row = NULL;
    volatile int too_big = 0;
    volatile unsigned long w = 0, h = 0;
    if (setjmp(ctx.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(row);
        if (too_big)
            return vgg_fail(err, VGG_ERR_FORMAT,
                            "%s: JPEG of %lux%lu pixels is larger than the "
                            "limit of %ld pixels; refused before decoding",
                            name, w, h, limit);
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: damaged or unsupported JPEG (libjpeg: %s)", name,
                        ctx.msg);
    }
    jpeg_create_decompress(&cinfo);
    ctx.progress.progress_monitor = on_jpeg_progress;
    cinfo.progress = &ctx.progress;
    jpeg_mem_src(&cinfo, (const unsigned char *)data, (unsigned long)n);
    jpeg_read_header(&cinfo, TRUE);
    w = cinfo.image_width;
    h = cinfo.image_height;
    if ((double)w * (double)h > (double)limit || w > VGG_IMAGE_MAX_SIDE ||
        h > VGG_IMAGE_MAX_SIDE) {
        too_big = 1;
        longjmp(ctx.jump, 1);
    }
    int cmyk = cinfo.jpeg_color_space == JCS_CMYK ||
               cinfo.jpeg_color_space == JCS_YCCK;
    cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    cinfo.dct_method = JDCT_ISLOW;
    jpeg_start_decompress(&cinfo);
    int comps = cinfo.output_components;
    if ((cmyk && comps != 4) || (!cmyk && comps != 3)) {
        snprintf(ctx.msg, sizeof ctx.msg, "%d components after conversion",
                 comps);
        longjmp(ctx.jump, 1);
    }
    size_t W = cinfo.output_width, H = cinfo.output_height;
    pixels = malloc(W * H * 3);
    row = cmyk ? malloc(W * 4) : NULL;
    if (!pixels || (cmyk && !row)) {
        snprintf(ctx.msg, sizeof ctx.msg, "out of memory for %zux%zu pixels", W,
                 H);
        longjmp(ctx.jump, 1);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        size_t y = cinfo.output_scanline;
        JSAMPROW out = cmyk ? row : pixels + y * W * 3;
        if (jpeg_read_scanlines(&cinfo, &out, 1) != 1) {
            snprintf(ctx.msg, sizeof ctx.msg, "no data at row %zu", y);
            longjmp(ctx.jump, 1);
        }
        if (cmyk) {
            /* Adobe writes inverted CMYK (as libjpeg returns it):
             * R = C * K / 255, and so on. */
            int inverted = cinfo.saw_Adobe_marker;
            uint8_t *o = pixels + y * W * 3;
            for (size_t x = 0; x < W; x++) {
                int c = row[4 * x], m = row[4 * x + 1], yy = row[4 * x + 2],
                    k = row[4 * x + 3];
                if (!inverted) {
                    c = 255 - c, m = 255 - m, yy = 255 - yy, k = 255 - k;
                }
                o[3 * x] = mul255(c, k);
                o[3 * x + 1] = mul255(m, k);
                o[3 * x + 2] = mul255(yy, k);
            }
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(row);
    img->rgb = pixels;
    img->width = (int)W;
    img->height = (int)H;
    return VGG_OK;
}
