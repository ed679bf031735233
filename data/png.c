/* png.c: PNG decode/encode through libpng, with setjmp error recovery so bad files return -1. */
#include <png.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "data/image.h"
#include "util/err.h"

/* Everything the error path must see lives on the heap behind one pointer that is set before
 * setjmp and never reassigned, so longjmp cannot leave it indeterminate (C11 7.13.2.1). */
typedef struct PngCtx {
    const char *name;         /* file name, or "PNG data" for memory buffers */
    const unsigned char *buf; /* reading: the encoded bytes */
    size_t len, pos;
    unsigned char *obuf; /* writing: the growing output */
    size_t olen, ocap;
    png_bytep *rows; /* row pointers, freed on error */
    void *px;        /* pixels being filled, freed on error */
    char msg[256];   /* libpng's reason */
} PngCtx;

static void on_error(png_structp png, png_const_charp msg) {
    PngCtx *c = png_get_error_ptr(png);
    snprintf(c->msg, sizeof c->msg, "%s", msg);
    png_longjmp(png, 1);
}

/* Warnings (a bad ancillary chunk CRC, say) do not stop decoding and are not worth a line. */
static void on_warning(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

static void read_mem(png_structp png, png_bytep out, png_size_t n) {
    PngCtx *c = png_get_io_ptr(png);
    if (n > c->len - c->pos) png_error(png, "file is truncated");
    memcpy(out, c->buf + c->pos, n);
    c->pos += n;
}

static void write_mem(png_structp png, png_bytep data, png_size_t n) {
    PngCtx *c = png_get_io_ptr(png);
    if (c->olen + n > c->ocap) {
        while (c->olen + n > c->ocap) c->ocap = c->ocap ? 2 * c->ocap : 1 << 16;
        c->obuf = xrealloc(c->obuf, c->ocap);
    }
    memcpy(c->obuf + c->olen, data, n);
    c->olen += n;
}

static void flush_mem(png_structp png) { (void)png; }

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Signature, then a walk over the chunk headers: a chunk claiming more bytes than the buffer has
 * left means a truncated or corrupt file. libpng allocates a chunk's claimed length before it
 * reads the data (fuzzing found 1.7 GB requests from a 99-byte file, for unknown chunks that
 * png_set_chunk_malloc_max does not cover), so the check must come first. */
static int check_structure(const PngCtx *c) {
    if (c->len == 0) return rn_fail("%s: empty file (0 bytes), not a PNG", c->name);
    if (c->len < 8 || png_sig_cmp(c->buf, 0, 8) != 0) return rn_fail("%s: not a PNG file (bad signature)", c->name);
    size_t pos = 8;
    while (c->len - pos >= 8) {
        uint32_t n = be32(c->buf + pos);
        if (n > 0x7fffffffu || (size_t)n + 12 > c->len - pos)
            return rn_fail("%s: truncated or corrupt PNG: the chunk at byte %zu claims %u bytes, %zu remain", c->name,
                           pos, n, c->len - pos);
        if (!memcmp(c->buf + pos + 4, "IEND", 4)) return 0;
        pos += (size_t)n + 12;
    }
    return rn_fail("%s: truncated PNG: no IEND chunk in %zu bytes", c->name, c->len);
}

/* Limits set before the header is read: sides, known ancillary chunk sizes, and no buffering of
 * unknown chunks (skipped unread). */
static void set_limits(png_structp png) {
    png_set_user_limits(png, 1 << 16, 1 << 16);
    png_set_chunk_malloc_max(png, 8 << 20);
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, 0);
}

/* Deflate expands at most ~1032:1, so a file too short to hold its claimed pixels is truncated:
 * refusing it here avoids allocating (and zero-filling) a frame that can never be completed. */
static void check_plausible(png_structp png, const PngCtx *c, double raw_bytes) {
    if (raw_bytes > 1040.0 * (double)c->len) png_error(png, "file is too short for its claimed size (truncated)");
}

/* Header handling for 8-bit reads: size limits, then transforms that turn every 8-bit-or-less
 * layout into gray, RGB or RGBA bytes. Returns the bytes per pixel (= channels) after the
 * transforms; errors longjmp. */
static size_t setup_read8(png_structp png, png_infop info, const PngCtx *c) {
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    if ((double)w * (double)h > (double)IMAGE_MAX_PIXELS) png_error(png, "image too large");
    check_plausible(png, c, (double)png_get_rowbytes(png, info) * h);
    int type = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
    if (depth == 16) png_error(png, "16-bit PNG (use png_read16 for 16-bit gray)");
    if (type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (type == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    /* gray+alpha has no Image layout of its own: widen it to RGBA. */
    if (type == PNG_COLOR_TYPE_GRAY_ALPHA || (type == PNG_COLOR_TYPE_GRAY && png_get_valid(png, info, PNG_INFO_tRNS)))
        png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int ch = png_get_channels(png, info);
    if ((ch != 1 && ch != 3 && ch != 4) || png_get_bit_depth(png, info) != 8) png_error(png, "unsupported pixel layout");
    if (png_get_rowbytes(png, info) != (size_t)w * (size_t)ch) png_error(png, "unexpected row size");
    return (size_t)ch;
}

/* Header handling for gray reads: 16-bit samples in host order, or <=8-bit samples as bytes.
 * Returns the bytes per pixel (2 or 1); errors longjmp. */
static size_t setup_read16(png_structp png, png_infop info, const PngCtx *c) {
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    int depth = png_get_bit_depth(png, info);
    if ((double)w * (double)h > (double)IMAGE_MAX_PIXELS) png_error(png, "image too large");
    check_plausible(png, c, (double)png_get_rowbytes(png, info) * h);
    if (png_get_color_type(png, info) != PNG_COLOR_TYPE_GRAY) png_error(png, "not a single-channel gray image");
    if (depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (depth == 16) {
        const uint16_t one = 1;
        if (*(const uint8_t *)&one == 1) png_set_swap(png); /* PNG is big-endian; hosts mostly are not */
    }
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    size_t bpp = depth == 16 ? 2 : 1;
    if (png_get_rowbytes(png, info) != (size_t)w * bpp) png_error(png, "unexpected row size");
    return bpp;
}

static void read_rows(png_structp png, PngCtx *c, size_t row_bytes, int h) {
    c->rows = xmalloc((size_t)(h ? h : 1) * sizeof *c->rows);
    for (int r = 0; r < h; r++) c->rows[r] = (png_bytep)c->px + (size_t)r * row_bytes;
    png_read_image(png, c->rows);
    png_read_end(png, NULL);
}

typedef size_t (*SetupFn)(png_structp, png_infop, const PngCtx *);

/* Decodes c->buf with `setup`'s transforms into c->px (room for max(alloc_bpp, bpp) bytes a
 * pixel); *w, *h, *bpp describe the rows read. On any libpng error frees what it made and returns
 * -1, the message naming the file and `what` kind of PNG. */
static int decode(PngCtx *c, SetupFn setup, size_t alloc_bpp, const char *what, int *w, int *h, size_t *bpp) {
    TRY(check_structure(c));
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, c, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) rn_die("libpng: out of memory creating a reader");
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(c->rows);
        free(c->px);
        return rn_fail("%s: corrupt or unsupported %sPNG: %s", c->name, what, c->msg);
    }
    set_limits(png);
    png_set_read_fn(png, c, read_mem);
    *bpp = setup(png, info, c);
    *w = (int)png_get_image_width(png, info), *h = (int)png_get_image_height(png, info);
    c->px = xmalloc((size_t)*w * (size_t)*h * (*bpp > alloc_bpp ? *bpp : alloc_bpp) + 1);
    read_rows(png, c, (size_t)*w * *bpp, *h);
    png_destroy_read_struct(&png, &info, NULL);
    free(c->rows);
    return 0;
}

/* Decodes buf (named `name` in messages) and converts to want_c channels when asked. */
static int decode_named(const char *name, const unsigned char *buf, size_t len, Image *out, int want_c) {
    if (want_c != 0 && want_c != 1 && want_c != 3 && want_c != 4) rn_die("png: want_c %d", want_c);
    PngCtx *c = xcalloc(1, sizeof *c);
    *c = (PngCtx){.name = name, .buf = buf, .len = len};
    int w, h;
    size_t bpp;
    int rc = decode(c, setup_read8, 1, "", &w, &h, &bpp);
    if (rc == 0) *out = (Image){w, h, (int)bpp, c->px};
    free(c);
    if (rc == 0 && want_c && want_c != out->c) {
        Image conv = image_convert(out, want_c);
        image_free(out);
        *out = conv;
    }
    return rc;
}

/* The PNG signature, then IHDR as the first chunk (the PNG spec requires it there): length 13,
 * "IHDR", width, height (big-endian, 1..2^31-1). */
int png_header(const unsigned char *buf, size_t len, int *w, int *h) {
    enum { SIG = 8, IHDR_AT = SIG + 8, IHDR_LEN = 13 };
    if (len < IHDR_AT + IHDR_LEN || png_sig_cmp(buf, 0, SIG) != 0) return rn_fail("PNG data: not a PNG file (bad signature)");
    if (be32(buf + SIG) != IHDR_LEN || memcmp(buf + SIG + 4, "IHDR", 4)) return rn_fail("PNG data: the first chunk is not IHDR");
    uint32_t pw = be32(buf + IHDR_AT), ph = be32(buf + IHDR_AT + 4);
    if (pw == 0 || ph == 0 || pw > 0x7fffffffu || ph > 0x7fffffffu) return rn_fail("PNG data: IHDR size %ux%u is out of range", pw, ph);
    *w = (int)pw;
    *h = (int)ph;
    return 0;
}

int png_decode(const unsigned char *buf, size_t len, Image *out, int want_c) {
    return decode_named("PNG data", buf, len, out, want_c);
}

int png_read(const char *path, Image *out, int want_c) {
    unsigned char *buf;
    size_t len;
    TRY(file_read_all(path, &buf, &len));
    int rc = decode_named(path, buf, len, out, want_c);
    free(buf);
    return rc;
}

/* 16-bit (or widened <=8-bit) gray from buf (named `name` in messages) into *out. */
static int decode16_named(const char *name, const unsigned char *buf, size_t len, Image16 *out) {
    PngCtx *c = xcalloc(1, sizeof *c);
    *c = (PngCtx){.name = name, .buf = buf, .len = len};
    int w, h;
    size_t bpp;
    int rc = decode(c, setup_read16, sizeof(uint16_t), "16-bit ", &w, &h, &bpp);
    if (rc == 0) {
        *out = (Image16){w, h, c->px};
        /* 8-bit rows were packed at the front of the buffer; widen back to front so nothing is overrun. */
        if (bpp == 1) {
            const uint8_t *b = c->px;
            for (size_t i = (size_t)w * (size_t)h; i-- > 0;) out->px[i] = b[i];
        }
    }
    free(c);
    return rc;
}

int png_decode16(const unsigned char *buf, size_t len, Image16 *out) {
    return decode16_named("PNG data", buf, len, out);
}

int png_read16(const char *path, Image16 *out) {
    unsigned char *buf;
    size_t len;
    TRY(file_read_all(path, &buf, &len));
    int rc = decode16_named(path, buf, len, out);
    free(buf);
    return rc;
}

/* Encodes h rows of `row_bytes` from px as a PNG of the given type and depth into c->obuf. */
static int encode(PngCtx *c, const void *px, int w, int h, int type, int depth, size_t row_bytes) {
    if (w <= 0 || h <= 0) return rn_fail("%s: cannot write an empty %dx%d image", c->name, w, h);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, c, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) rn_die("libpng: out of memory creating a writer");
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(c->rows);
        free(c->obuf);
        c->obuf = NULL;
        return rn_fail("%s: PNG encoding failed: %s", c->name, c->msg);
    }
    png_set_write_fn(png, c, write_mem, flush_mem);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, type, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    if (depth == 16) {
        const uint16_t one = 1;
        if (*(const uint8_t *)&one == 1) png_set_swap(png);
    }
    c->rows = xmalloc((size_t)h * sizeof *c->rows);
    for (int r = 0; r < h; r++) c->rows[r] = (png_bytep)px + (size_t)r * row_bytes;
    png_write_image(png, c->rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(c->rows);
    return 0;
}

static int color_type(int c) {
    return c == 1 ? PNG_COLOR_TYPE_GRAY : c == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_RGB_ALPHA;
}

int png_encode(const Image *im, unsigned char **buf, size_t *len) {
    RN_CHECK(im->c == 1 || im->c == 3 || im->c == 4, "png_encode: %d channels", im->c);
    PngCtx *c = xcalloc(1, sizeof *c);
    c->name = "PNG data";
    int rc = encode(c, im->px, im->w, im->h, color_type(im->c), 8, (size_t)im->w * (size_t)im->c);
    if (rc == 0) {
        *buf = c->obuf;
        *len = c->olen;
    }
    free(c);
    return rc;
}

int png_write(const char *path, const Image *im) {
    RN_CHECK(im->c == 1 || im->c == 3 || im->c == 4, "png_write %s: %d channels", path, im->c);
    PngCtx *c = xcalloc(1, sizeof *c);
    c->name = path;
    int rc = encode(c, im->px, im->w, im->h, color_type(im->c), 8, (size_t)im->w * (size_t)im->c);
    if (rc == 0) rc = file_write_all(path, c->obuf, c->olen);
    free(c->obuf);
    free(c);
    return rc;
}

int png_write16(const char *path, const Image16 *im) {
    PngCtx *c = xcalloc(1, sizeof *c);
    c->name = path;
    int rc = encode(c, im->px, im->w, im->h, PNG_COLOR_TYPE_GRAY, 16, (size_t)im->w * 2);
    if (rc == 0) rc = file_write_all(path, c->obuf, c->olen);
    free(c->obuf);
    free(c);
    return rc;
}
