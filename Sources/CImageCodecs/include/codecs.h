/*
 * CImageCodecs: the only C in filtervis. Flat functions over memory buffers around libjpeg(-turbo) and libpng.
 *
 * Every setjmp/longjmp lives in codecs.c and never crosses a Swift frame: each function sets its own jump
 * point, calls the library, and returns a status. They never print, never exit, never read files.
 * Decoding is two-phase so that the caller can check the pixel count against its limit before allocating:
 *   codec_*_read_header()  ->  codec_info (size, source format, output channels)
 *   codec_*_decode()       ->  fills a caller-owned buffer of width * height * out_channels bytes.
 * Status: 0 success, non-zero failure with a NUL-terminated reason in err (libpng/libjpeg's own words).
 */
#ifndef FILTERVIS_CODECS_H
#define FILTERVIS_CODECS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Failure kinds, so that Swift can word the message (truncated data reads differently from bad data).
enum {
    CODEC_OK = 0,
    CODEC_ERROR = 1,      /* the library refused the data */
    CODEC_TRUNCATED = 2,  /* the data ends before the image does */
    CODEC_UNSUPPORTED = 3 /* valid but a kind we do not decode (e.g. 12-bit JPEG) */
};

/// PNG colour types (values of the IHDR byte), for codec_info.color_type.
enum {
    CODEC_PNG_GRAY = 0, CODEC_PNG_RGB = 2, CODEC_PNG_PALETTE = 3, CODEC_PNG_GRAY_ALPHA = 4, CODEC_PNG_RGBA = 6
};

/// JPEG colour spaces (libjpeg's J_COLOR_SPACE values we report), for codec_info.color_type.
enum {
    CODEC_JPEG_GRAY = 1, CODEC_JPEG_RGB = 2, CODEC_JPEG_YCBCR = 3, CODEC_JPEG_CMYK = 4, CODEC_JPEG_YCCK = 5
};

/// What a header says, and what the decoder will produce.
typedef struct codec_info {
    uint32_t width;
    uint32_t height;
    int bit_depth;        /* bits per sample in the file (PNG 1..16, JPEG 8) */
    int color_type;       /* CODEC_PNG_* or CODEC_JPEG_* */
    int source_channels;  /* samples per pixel in the file (palette: 1; a tRNS chunk is not counted) */
    int has_alpha;        /* the output carries alpha (alpha channel, or a tRNS chunk) */
    int interlaced;       /* PNG Adam7 / progressive JPEG */
    int out_channels;     /* 1 (gray), 3 (RGB) or 4 (RGBA) */
} codec_info;

/* MARK: JPEG */

/// Reads a JPEG header: size, colour space, progressive flag; out_channels is 1 for gray, 3 otherwise.
int codec_jpeg_read_header(const uint8_t *data, size_t len, codec_info *info, char *err, size_t err_len);

/// Decodes a JPEG into out (width * height * out_channels bytes, row-major, interleaved).
/// CMYK/YCCK become RGB as Pillow does (Adobe-inverted samples, then R = K' * C' / 255, see codecs.c).
/// Recoverable libjpeg warnings (e.g. "Corrupt JPEG data: 12 extraneous bytes") are joined into warn;
/// a premature end of data is an error (CODEC_TRUNCATED), as in Pillow.
int codec_jpeg_decode(const uint8_t *data, size_t len, uint8_t *out, size_t out_len,
                      char *warn, size_t warn_len, char *err, size_t err_len);

/// Encodes 8-bit gray (channels 1) or RGB (channels 3) as a baseline JFIF JPEG at quality 1...100
/// (4:2:0 chroma subsampling, libjpeg's defaults). On success *out is malloc'ed: release it with codec_free.
int codec_jpeg_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels, int quality,
                      uint8_t **out, size_t *out_len, char *err, size_t err_len);

/* MARK: PNG */

/// Reads a PNG header (signature, IHDR, and chunks up to the image data, for tRNS).
int codec_png_read_header(const uint8_t *data, size_t len, codec_info *info, char *err, size_t err_len);

/// Decodes any PNG to 8 bits per sample: gray -> 1 channel, gray+alpha / palette+tRNS / gray+tRNS /
/// RGB+tRNS -> 4, RGB -> 3, RGBA -> 4. 16-bit samples keep their high byte (as Pillow does for RGB;16B and
/// RGBA;16B; for 16-bit gray Pillow's "I;16" -> "L" clips at 255 instead, which is a quirk we do not copy);
/// 1/2/4-bit gray is scaled by bit replication (1 -> 255); gAMA/iCCP are ignored (as Pillow does).
int codec_png_decode(const uint8_t *data, size_t len, uint8_t *out, size_t out_len, char *err, size_t err_len);

/// Encodes 8-bit gray (1), RGB (3) or RGBA (4) as a non-interlaced PNG, zlib level compression_level (0...9).
/// On success *out is malloc'ed: release it with codec_free.
int codec_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels, int compression_level,
                     uint8_t **out, size_t *out_len, char *err, size_t err_len);

/// Frees a buffer returned by an encoder.
void codec_free(void *p);

/// The linked library versions, e.g. "libjpeg 62 (turbo 2.1.5), libpng 1.6.39".
const char *codec_versions(void);

#ifdef __cplusplus
}
#endif

#endif
