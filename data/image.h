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

Image image_alloc(int w, int h, int c);
void image_free(Image *im);
Image16 image16_alloc(int w, int h);
void image16_free(Image16 *im);
Frame frame_alloc(int w, int h, int c);
void frame_free(Frame *f);

/* Conversions (8-bit <-> float [0,1], rounding to nearest and clamping on the way back). */
Frame frame_from_image(const Image *im);
Image image_from_frame(const Frame *f);

/* ---- files: each returns 0, or -1 with rn_errmsg() naming the file and what is wrong ---- */
/* PNG (libpng): 8-bit gray/RGB/RGBA, palette expanded to RGB; want_c 0 keeps the file's channel
 * count, 1/3 converts. 16-bit files are an error here (use png_read16). */
int png_read(const char *path, Image *out, int want_c);
int png_write(const char *path, const Image *im);
int png_read16(const char *path, Image16 *out);
int png_write16(const char *path, const Image16 *im);
/* JPEG (TurboJPEG): quality 1..100, subsamp 444/422/420 (0 = 420). Encoded bytes are malloc'ed. */
int jpeg_encode(const Image *im, int quality, int subsamp, unsigned char **buf, size_t *len);
int jpeg_decode(const unsigned char *buf, size_t len, Image *out, int want_c);
int jpeg_read(const char *path, Image *out, int want_c);
int jpeg_write(const char *path, const Image *im, int quality);
/* By extension: .png, .jpg/.jpeg. */
int image_read(const char *path, Image *out, int want_c);
int image_write(const char *path, const Image *im);
