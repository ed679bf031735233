/* image.h: frames as the data layer sees them — 8-bit interleaved images and float planar frames. */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* 8-bit interleaved pixels (HWC), c = 1 (gray / label map), 3 (RGB) or 4 (RGBA). */
typedef struct Image {
    int w, h, c;
    uint8_t *px; /* [h*w*c], owned */
} Image;

/* 16-bit single-channel image (instance maps). */
typedef struct Image16 {
    int w, h;
    uint16_t *px; /* [h*w], owned */
} Image16;

/* Float planar frame, c planes of h*w in [0,1] (the engine's NCHW with N = 1, so a frame becomes a
 * tensor with one copy). */
typedef struct Frame {
    int w, h, c;
    float *px; /* [c*h*w], owned */
} Frame;

/* Largest frame any decoder accepts (pixels): a corrupt header claiming a gigapixel image is
 * refused with an error instead of an out-of-memory death. */
#define IMAGE_MAX_PIXELS (1L << 26)

Image image_alloc(int w, int h, int c);
void image_free(Image *im);
Image16 image16_alloc(int w, int h);
void image16_free(Image16 *im);
Frame frame_alloc(int w, int h, int c);
void frame_free(Frame *f);

/* How an 8-bit sample v becomes a float in [0,1]. Two rules are in use; they give different
 * floats for 126 of the 256 values (by one unit in the last place):
 *   PIXEL_DIV  v / 255, correctly rounded: PyTorch's ToTensor and darknet's image loader, so the
 *              models' inputs match their reference implementations float for float;
 *   PIXEL_MUL  v * (1/255 rounded to float): what frame_from_image and the loader's SR and
 *              segmentation batches have always produced; kept so that training runs (and the
 *              resumes of runs begun before) and evaluations give the numbers they always gave. */
typedef enum { PIXEL_DIV, PIXEL_MUL } PixelRule;

/* table[v] = sample v as a float in [0,1] under `rule`. */
void pixel_unit_table(PixelRule rule, float table[256]);
/* HWC bytes -> planar floats [c][h][w] in [0,1] under `rule`; dst holds im->c * h * w floats. */
void image_to_planar(const Image *im, PixelRule rule, float *dst);

/* Conversions (8-bit <-> float [0,1]: PIXEL_MUL on the way in; rounding to nearest and clamping on
 * the way back). */
Frame frame_from_image(const Image *im);
Image image_from_frame(const Frame *f);
/* Channel conversion to c in {1,3,4}: RGB -> gray is BT.601 luma (0.299 R + 0.587 G + 0.114 B,
 * rounded), gray -> RGB replicates, alpha is dropped (not composited) or added as 255. */
Image image_convert(const Image *im, int c);
/* A copy of the w x h window at (x, y); the window must lie inside the image. */
Image image_crop(const Image *im, int x, int y, int w, int h);

/* ---- files: each returns 0, or -1 with rn_errmsg() naming the file and what is wrong ---- */
/* PNG (libpng): 8-bit gray/RGB/RGBA; palette expanded to RGB (RGBA when it has transparency),
 * gray+alpha to RGBA, 1/2/4-bit gray widened to 8 bits. want_c 0 keeps the decoded channel count,
 * 1/3/4 converts with image_convert. 16-bit files are an error here (use png_read16). */
int png_read(const char *path, Image *out, int want_c);
int png_write(const char *path, const Image *im);
/* 16-bit gray (8-bit gray is widened, values kept); colour files are an error. */
int png_read16(const char *path, Image16 *out);
int png_write16(const char *path, const Image16 *im);
/* In memory: decode `len` bytes (errors name the data as "PNG data"); encode into a malloc'ed
 * buffer of exactly *len bytes. */
int png_decode(const unsigned char *buf, size_t len, Image *out, int want_c);
int png_decode16(const unsigned char *buf, size_t len, Image16 *out);
int png_encode(const Image *im, unsigned char **buf, size_t *len);
/* The size in the IHDR chunk, nothing decoded (a remote frame's declared size is checked against it
 * before any pixel memory is spent); 0, or -1 with rn_errmsg() when buf does not start as a PNG. */
int png_header(const unsigned char *buf, size_t len, int *w, int *h);
/* JPEG (TurboJPEG): quality 1..100, subsamp 444/422/420 (0 = 420); gray images encode as
 * grayscale JPEG whatever subsamp says. Encoded bytes are malloc'ed, *len is the exact count.
 * Decoding treats libjpeg warnings (a truncated stream) as errors. */
int jpeg_encode(const Image *im, int quality, int subsamp, unsigned char **buf, size_t *len);
int jpeg_decode(const unsigned char *buf, size_t len, Image *out, int want_c);
/* The size in the JPEG's frame header (TurboJPEG's header read, nothing decoded); 0, or -1 with rn_errmsg(). */
int jpeg_header(const unsigned char *buf, size_t len, int *w, int *h);
int jpeg_read(const char *path, Image *out, int want_c);
int jpeg_write(const char *path, const Image *im, int quality);
/* By extension (case-insensitive): .png, .jpg/.jpeg (written at quality 95, 4:2:0). */
int image_read(const char *path, Image *out, int want_c);
int image_write(const char *path, const Image *im);
/* Whole file into a malloc'ed buffer (used by the decoders; exposed for tools and fuzzers). */
int file_read_all(const char *path, unsigned char **buf, size_t *len);
int file_write_all(const char *path, const unsigned char *buf, size_t len);
