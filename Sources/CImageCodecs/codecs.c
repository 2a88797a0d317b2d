/*
 * libjpeg / libpng behind flat, non-printing, non-exiting functions (see include/codecs.h).
 *
 * Both libraries report fatal errors by calling a handler that must not return. Ours format the message into
 * a context struct and longjmp back to the setjmp in the same C function that called the library, so the
 * jump never crosses a Swift frame. Anything allocated between setjmp and the jump is owned by the library's
 * own memory pools or by the context struct, and is released on both paths.
 */
#include "codecs.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

static void set_message(char *dst, size_t dst_len, const char *msg) {
    if (dst == NULL || dst_len == 0) return;
    snprintf(dst, dst_len, "%s", msg);
}

/* MARK: - JPEG error handling */

typedef struct jpeg_context {
    struct jpeg_error_mgr pub;  /* must be first: libjpeg hands us a pointer to it */
    jmp_buf jump;
    int status;                 /* CODEC_ERROR or CODEC_TRUNCATED when jumping */
    char message[JMSG_LENGTH_MAX];
    char *warn;                 /* caller's buffer for recoverable warnings (may be NULL) */
    size_t warn_len;
} jpeg_context;

/* Replaces error_exit (which would print and exit()): keep the message, jump back into our caller. */
static void jpeg_on_error(j_common_ptr cinfo) {
    jpeg_context *ctx = (jpeg_context *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, ctx->message);
    ctx->status = CODEC_ERROR;
    longjmp(ctx->jump, 1);
}

/* Replaces emit_message: warnings (level -1) are collected, the first few of them; trace messages dropped.
 * Running out of data is fatal for us (libjpeg would pad the image with grey and carry on). */
static void jpeg_on_message(j_common_ptr cinfo, int level) {
    jpeg_context *ctx = (jpeg_context *)cinfo->err;
    if (level >= 0) return;
    if (cinfo->err->msg_code == JWRN_JPEG_EOF) {
        (*cinfo->err->format_message)(cinfo, ctx->message);
        ctx->status = CODEC_TRUNCATED;
        longjmp(ctx->jump, 1);
    }
    cinfo->err->num_warnings++;
    if (ctx->warn == NULL || ctx->warn_len == 0 || cinfo->err->num_warnings > 3) return;
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    size_t used = strlen(ctx->warn);
    if (used + 3 >= ctx->warn_len) return;
    snprintf(ctx->warn + used, ctx->warn_len - used, "%s%s", used ? "; " : "", text);
}

/* Replaces output_message: never print. */
static void jpeg_on_output(j_common_ptr cinfo) { (void)cinfo; }

static void jpeg_context_init(jpeg_context *ctx, struct jpeg_decompress_struct *cinfo, char *warn, size_t warn_len) {
    memset(ctx, 0, sizeof *ctx);
    cinfo->err = jpeg_std_error(&ctx->pub);
    ctx->pub.error_exit = jpeg_on_error;
    ctx->pub.emit_message = jpeg_on_message;
    ctx->pub.output_message = jpeg_on_output;
    ctx->warn = warn;
    ctx->warn_len = warn_len;
    if (warn && warn_len) warn[0] = 0;
}

static int jpeg_color_type(J_COLOR_SPACE space) {
    switch (space) {
    case JCS_GRAYSCALE: return CODEC_JPEG_GRAY;
    case JCS_RGB: return CODEC_JPEG_RGB;
    case JCS_YCbCr: return CODEC_JPEG_YCBCR;
    case JCS_CMYK: return CODEC_JPEG_CMYK;
    case JCS_YCCK: return CODEC_JPEG_YCCK;
    default: return 0;
    }
}

static void jpeg_fill_info(const struct jpeg_decompress_struct *cinfo, codec_info *info) {
    memset(info, 0, sizeof *info);
    info->width = cinfo->image_width;
    info->height = cinfo->image_height;
    info->bit_depth = cinfo->data_precision;
    info->color_type = jpeg_color_type(cinfo->jpeg_color_space);
    info->source_channels = cinfo->num_components;
    info->has_alpha = 0;
    info->interlaced = cinfo->progressive_mode ? 1 : 0;
    info->out_channels = cinfo->jpeg_color_space == JCS_GRAYSCALE ? 1 : 3;
}

/* Checks what libjpeg accepted in the header but we do not decode; returns 0 or CODEC_UNSUPPORTED. */
static int jpeg_check_supported(const struct jpeg_decompress_struct *cinfo, char *err, size_t err_len) {
    if (cinfo->data_precision != 8) {
        snprintf(err, err_len, "%d-bit JPEG samples (only 8-bit JPEG is supported)", cinfo->data_precision);
        return CODEC_UNSUPPORTED;
    }
    if (jpeg_color_type(cinfo->jpeg_color_space) == 0) {
        snprintf(err, err_len, "JPEG colour space %d with %d components is not supported",
                 (int)cinfo->jpeg_color_space, cinfo->num_components);
        return CODEC_UNSUPPORTED;
    }
    return CODEC_OK;
}

int codec_jpeg_read_header(const uint8_t *data, size_t len, codec_info *info, char *err, size_t err_len) {
    struct jpeg_decompress_struct cinfo;
    jpeg_context ctx;
    jpeg_context_init(&ctx, &cinfo, NULL, 0);
    if (setjmp(ctx.jump)) {
        set_message(err, err_len, ctx.message);
        jpeg_destroy_decompress(&cinfo);
        return ctx.status;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)len);
    jpeg_read_header(&cinfo, TRUE);
    int status = jpeg_check_supported(&cinfo, err, err_len);
    if (status == CODEC_OK) jpeg_fill_info(&cinfo, info);
    jpeg_destroy_decompress(&cinfo);
    return status;
}

/* Pillow's CMYK -> RGB (libImaging/Convert.c cmyk2rgb) after its "CMYK;I" unpacking (JpegImagePlugin assumes
 * Adobe's inverted samples for every 4-component JPEG): with s the stored sample, C = 255 - s, nk = 255 - K,
 * R = nk - C * nk / 255, the division rounded as MULDIV255 does. */
static inline uint8_t muldiv255(int a, int b) {
    int t = a * b + 128;
    return (uint8_t)(((t >> 8) + t) >> 8);
}

static void cmyk_row_to_rgb(const uint8_t *cmyk, uint8_t *rgb, uint32_t width) {
    for (uint32_t x = 0; x < width; x++) {
        int nk = cmyk[4 * x + 3];  /* 255 - K, with K = 255 - stored */
        for (int c = 0; c < 3; c++) {
            int ink = 255 - cmyk[4 * x + c];
            int v = nk - muldiv255(ink, nk);
            rgb[3 * x + c] = (uint8_t)(v < 0 ? 0 : v);
        }
    }
}

int codec_jpeg_decode(const uint8_t *data, size_t len, uint8_t *out, size_t out_len,
                      char *warn, size_t warn_len, char *err, size_t err_len) {
    struct jpeg_decompress_struct cinfo;
    jpeg_context ctx;
    jpeg_context_init(&ctx, &cinfo, warn, warn_len);
    if (setjmp(ctx.jump)) {
        set_message(err, err_len, ctx.message);
        jpeg_destroy_decompress(&cinfo);
        return ctx.status;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)len);
    jpeg_read_header(&cinfo, TRUE);
    int status = jpeg_check_supported(&cinfo, err, err_len);
    if (status != CODEC_OK) {
        jpeg_destroy_decompress(&cinfo);
        return status;
    }
    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    int channels = cinfo.jpeg_color_space == JCS_GRAYSCALE ? 1 : 3;
    cinfo.out_color_space = cmyk ? JCS_CMYK : (channels == 1 ? JCS_GRAYSCALE : JCS_RGB);
    size_t row_bytes = (size_t)cinfo.image_width * (size_t)channels;
    if (out_len < row_bytes * cinfo.image_height) {
        snprintf(err, err_len, "output buffer of %zu bytes is too small for %u x %u x %d",
                 out_len, cinfo.image_width, cinfo.image_height, channels);
        jpeg_destroy_decompress(&cinfo);
        return CODEC_ERROR;
    }
    jpeg_start_decompress(&cinfo);
    /* The CMYK staging row lives in libjpeg's image pool, so a longjmp cannot leak it. */
    JSAMPARRAY staging = cmyk ? (*cinfo.mem->alloc_sarray)((j_common_ptr)&cinfo, JPOOL_IMAGE,
                                                           cinfo.output_width * 4, 1) : NULL;
    while (cinfo.output_scanline < cinfo.output_height) {
        uint8_t *row = out + (size_t)cinfo.output_scanline * row_bytes;
        if (cmyk) {
            jpeg_read_scanlines(&cinfo, staging, 1);
            cmyk_row_to_rgb(staging[0], row, cinfo.output_width);
        } else {
            JSAMPROW rows[1] = { row };
            jpeg_read_scanlines(&cinfo, rows, 1);
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return CODEC_OK;
}

int codec_jpeg_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels, int quality,
                      uint8_t **out, size_t *out_len, char *err, size_t err_len) {
    *out = NULL;
    *out_len = 0;
    if (channels != 1 && channels != 3) {
        snprintf(err, err_len, "JPEG stores gray or RGB, not %d channels", channels);
        return CODEC_UNSUPPORTED;
    }
    if (width == 0 || height == 0 || width > JPEG_MAX_DIMENSION || height > JPEG_MAX_DIMENSION) {
        snprintf(err, err_len, "%u x %u is outside JPEG's 1...%d pixels per side", width, height, (int)JPEG_MAX_DIMENSION);
        return CODEC_UNSUPPORTED;
    }
    struct jpeg_compress_struct cinfo;
    jpeg_context ctx;
    memset(&ctx, 0, sizeof ctx);
    cinfo.err = jpeg_std_error(&ctx.pub);
    ctx.pub.error_exit = jpeg_on_error;
    ctx.pub.emit_message = jpeg_on_message;
    ctx.pub.output_message = jpeg_on_output;
    /* libjpeg-turbo's memory destination mallocs (and reallocs) this buffer; volatile: it is read after a jump. */
    unsigned char *volatile buffer = NULL;
    unsigned long size = 0;
    if (setjmp(ctx.jump)) {
        set_message(err, err_len, ctx.message);
        jpeg_destroy_compress(&cinfo);
        free(buffer);
        return CODEC_ERROR;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, (unsigned char **)&buffer, &size);
    cinfo.image_width = width;
    cinfo.image_height = height;
    cinfo.input_components = channels;
    cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality < 1 ? 1 : (quality > 100 ? 100 : quality), TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    size_t row_bytes = (size_t)width * (size_t)channels;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW rows[1] = { (JSAMPROW)(pixels + (size_t)cinfo.next_scanline * row_bytes) };
        jpeg_write_scanlines(&cinfo, rows, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    *out = buffer;
    *out_len = size;
    return CODEC_OK;
}

/* MARK: - PNG error handling and memory I/O */

typedef struct png_context {
    const uint8_t *data;
    size_t len, pos;
    int truncated;
    char message[256];
    png_bytep *rows;           /* row pointers, freed by the caller on both paths */
    uint8_t *wbuf;             /* encoder output (malloc/realloc) */
    size_t wlen, wcap;
} png_context;

static void png_on_error(png_structp png, png_const_charp msg) {
    png_context *ctx = (png_context *)png_get_error_ptr(png);
    snprintf(ctx->message, sizeof ctx->message, "%s", msg);
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

static void png_read_memory(png_structp png, png_bytep dst, size_t n) {
    png_context *ctx = (png_context *)png_get_io_ptr(png);
    if (n > ctx->len - ctx->pos) {
        ctx->truncated = 1;
        png_error(png, "the data ends before the image does");
    }
    memcpy(dst, ctx->data + ctx->pos, n);
    ctx->pos += n;
}

static void png_write_memory(png_structp png, png_bytep src, size_t n) {
    png_context *ctx = (png_context *)png_get_io_ptr(png);
    if (ctx->wlen + n > ctx->wcap) {
        size_t cap = ctx->wcap ? ctx->wcap : 4096;
        while (cap < ctx->wlen + n) cap *= 2;
        uint8_t *grown = realloc(ctx->wbuf, cap);
        if (grown == NULL) png_error(png, "out of memory");
        ctx->wbuf = grown;
        ctx->wcap = cap;
    }
    memcpy(ctx->wbuf + ctx->wlen, src, n);
    ctx->wlen += n;
}

static void png_flush_memory(png_structp png) { (void)png; }

static int png_out_channels(int color_type, int has_trns) {
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY: return has_trns ? 4 : 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA: return 4;
    case PNG_COLOR_TYPE_PALETTE: return has_trns ? 4 : 3;
    case PNG_COLOR_TYPE_RGB: return has_trns ? 4 : 3;
    default: return 4;
    }
}

static int png_source_channels(int color_type) {
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY: return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
    case PNG_COLOR_TYPE_PALETTE: return 1;
    case PNG_COLOR_TYPE_RGB: return 3;
    default: return 4;
    }
}

/* Reads up to the image data and, if decode is set, the image itself into out. */
static int png_read(const uint8_t *data, size_t len, codec_info *info, uint8_t *out, size_t out_len,
                    char *err, size_t err_len) {
    png_context ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.data = data;
    ctx.len = len;
    if (len < 8 || png_sig_cmp(data, 0, 8) != 0) {
        set_message(err, err_len, "missing PNG signature");
        return CODEC_ERROR;
    }
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, png_on_error, png_on_warning);
    if (png == NULL) {
        set_message(err, err_len, "libpng could not allocate its read state");
        return CODEC_ERROR;
    }
    png_infop pinfo = png_create_info_struct(png);
    if (pinfo == NULL || setjmp(png_jmpbuf(png))) {
        set_message(err, err_len, pinfo ? ctx.message : "libpng could not allocate its info state");
        png_destroy_read_struct(&png, pinfo ? &pinfo : NULL, NULL);
        free(ctx.rows);
        return ctx.truncated ? CODEC_TRUNCATED : CODEC_ERROR;
    }
    png_set_read_fn(png, &ctx, png_read_memory);
    /* Size is our caller's call (its pixel limit, checked before decoding); lift libpng's 1e6-per-side cap. */
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_read_info(png, pinfo);

    png_uint_32 width, height;
    int bit_depth, color_type, interlace;
    png_get_IHDR(png, pinfo, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);
    int has_trns = png_get_valid(png, pinfo, PNG_INFO_tRNS) != 0;
    memset(info, 0, sizeof *info);
    info->width = width;
    info->height = height;
    info->bit_depth = bit_depth;
    info->color_type = color_type;
    info->source_channels = png_source_channels(color_type);
    info->out_channels = png_out_channels(color_type, has_trns);
    info->has_alpha = info->out_channels == 4;
    info->interlaced = interlace != PNG_INTERLACE_NONE;

    if (out != NULL) {
        int channels = info->out_channels;
        size_t row_bytes = (size_t)width * (size_t)channels;
        if (out_len < row_bytes * height) png_error(png, "output buffer too small");
        if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
        if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
        if (has_trns) png_set_tRNS_to_alpha(png);
        if (bit_depth == 16) png_set_strip_16(png);
        if (channels == 4 && (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA))
            png_set_gray_to_rgb(png);
        png_set_interlace_handling(png);
        png_read_update_info(png, pinfo);
        if (png_get_rowbytes(png, pinfo) != row_bytes) png_error(png, "unexpected row size after transforms");
        ctx.rows = malloc(sizeof(png_bytep) * (height ? height : 1));
        if (ctx.rows == NULL) png_error(png, "out of memory for row pointers");
        for (png_uint_32 y = 0; y < height; y++) ctx.rows[y] = out + (size_t)y * row_bytes;
        png_read_image(png, ctx.rows);
    }
    png_destroy_read_struct(&png, &pinfo, NULL);
    free(ctx.rows);
    return CODEC_OK;
}

int codec_png_read_header(const uint8_t *data, size_t len, codec_info *info, char *err, size_t err_len) {
    return png_read(data, len, info, NULL, 0, err, err_len);
}

int codec_png_decode(const uint8_t *data, size_t len, uint8_t *out, size_t out_len, char *err, size_t err_len) {
    codec_info info;
    return png_read(data, len, &info, out, out_len, err, err_len);
}

int codec_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels, int compression_level,
                     uint8_t **out, size_t *out_len, char *err, size_t err_len) {
    *out = NULL;
    *out_len = 0;
    int color_type = channels == 1 ? PNG_COLOR_TYPE_GRAY
                   : channels == 3 ? PNG_COLOR_TYPE_RGB
                   : channels == 4 ? PNG_COLOR_TYPE_RGB_ALPHA : -1;
    if (color_type < 0) {
        snprintf(err, err_len, "PNG encoder takes 1, 3 or 4 channels, not %d", channels);
        return CODEC_UNSUPPORTED;
    }
    if (width == 0 || height == 0) {
        snprintf(err, err_len, "cannot encode an empty %u x %u image", width, height);
        return CODEC_UNSUPPORTED;
    }
    png_context ctx;
    memset(&ctx, 0, sizeof ctx);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, png_on_error, png_on_warning);
    if (png == NULL) {
        set_message(err, err_len, "libpng could not allocate its write state");
        return CODEC_ERROR;
    }
    png_infop pinfo = png_create_info_struct(png);
    if (pinfo == NULL || setjmp(png_jmpbuf(png))) {
        set_message(err, err_len, pinfo ? ctx.message : "libpng could not allocate its info state");
        png_destroy_write_struct(&png, pinfo ? &pinfo : NULL);
        free(ctx.rows);
        free(ctx.wbuf);
        return CODEC_ERROR;
    }
    png_set_write_fn(png, &ctx, png_write_memory, png_flush_memory);
    png_set_compression_level(png, compression_level < 0 ? 6 : (compression_level > 9 ? 9 : compression_level));
    png_set_IHDR(png, pinfo, width, height, 8, color_type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, pinfo);
    ctx.rows = malloc(sizeof(png_bytep) * height);
    if (ctx.rows == NULL) png_error(png, "out of memory for row pointers");
    size_t row_bytes = (size_t)width * (size_t)channels;
    for (png_uint_32 y = 0; y < height; y++) ctx.rows[y] = (png_bytep)(pixels + (size_t)y * row_bytes);
    png_write_image(png, ctx.rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &pinfo);
    free(ctx.rows);
    *out = ctx.wbuf;
    *out_len = ctx.wlen;
    return CODEC_OK;
}

void codec_free(void *p) { free(p); }

const char *codec_versions(void) {
    static char text[128];
    snprintf(text, sizeof text, "libjpeg %d (libjpeg-turbo %d), libpng %s", JPEG_LIB_VERSION,
#ifdef LIBJPEG_TURBO_VERSION_NUMBER
             LIBJPEG_TURBO_VERSION_NUMBER,
#else
             0,
#endif
             png_get_libpng_ver(NULL));
    return text;
}
